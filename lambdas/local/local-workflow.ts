// Runs the inbound workflow definition that CDK deploys, with aws-local-stepfunctions, calling each
// Task's handler in-process. Every Task is mapped by the ARN placeholder its Resource names, never by
// state name, so a state added to the definition is covered or fails here. It does not build handlers.

import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import {
  arnPlaceholder,
  inboundDefinition,
  WORKFLOW_FUNCTIONS,
  type WorkflowFunction,
} from '../../lib/workflow/inbound-definition.ts';
import type { WorkflowInput, WorkflowStarter } from '../ports/index.ts';

/** A Lambda handler as the workflow calls it: JSON in, JSON out, errors matched by `name`. */
export type TaskHandler = (event: unknown) => Promise<unknown>;

/** The in-process handler for every function the workflow calls. */
export type WorkflowHandlers = Readonly<Record<WorkflowFunction, TaskHandler>>;

type RunOverrides = NonNullable<NonNullable<Parameters<StateMachine['run']>[1]>['overrides']>;
type LocalHandler = NonNullable<RunOverrides['taskResourceLocalHandlers']>[string];

/** The local stand-in for a function ARN; `ScanAuth` becomes `...:function:seg-scan-auth`. */
export const localFunctionArn = (fn: string): string =>
  `arn:aws:lambda:local:000000000000:function:seg-${fn.replace(/[a-z](?=[A-Z])/g, '$&-').toLowerCase()}`;

export interface LocalWorkflowOptions {
  /** A handler per function the definition calls (every name in `functions`). */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
  /**
   * Replaces every Retry pause with this many milliseconds (tests). By default the definition's
   * IntervalSeconds/BackoffRate apply, as in AWS.
   */
  readonly retryIntervalMs?: number;
  /** Called when an execution ends in failure (the message is then left for the reconciler). */
  readonly onExecutionFailed?: (executionId: string, error: Error) => void;
  /** Called with the final output when an execution succeeds. */
  readonly onExecutionSucceeded?: (record: ExecutionRecord) => void;
  /** The definition to run (with placeholders). @default inboundDefinition() */
  readonly definition?: AslDefinition;
  /** The functions the definition may call. @default WORKFLOW_FUNCTIONS (inbound) */
  readonly functions?: readonly string[];
  /** The state machine's name in execution ARNs. @default 'seg-inbound' */
  readonly name?: string;
}

/** How one local execution ended. */
export interface ExecutionRecord {
  readonly executionId: string;
  readonly input: WorkflowInput;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
}

/** A structural view of an ASL document, enough to walk it. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly [field: string]: unknown;
}
interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Retry?: readonly unknown[];
  readonly Branches?: readonly AslDefinition[];
  readonly Iterator?: AslDefinition;
  readonly ItemProcessor?: AslDefinition;
  readonly [field: string]: unknown;
}

/** Calls `visit` on every state, each before the states nested in its Parallel branches or Map processor. */
function forEachState(definition: AslDefinition, visit: (name: string, state: AslState) => void): void {
  for (const [name, state] of Object.entries(definition.States)) {
    visit(name, state);
    for (const branch of state.Branches ?? []) forEachState(branch, visit);
    if (state.Iterator) forEachState(state.Iterator, visit);
    if (state.ItemProcessor) forEachState(state.ItemProcessor, visit);
  }
}

/** A Task state and the workflow function its Resource placeholder names. */
export interface TaskBinding {
  readonly state: string;
  readonly fn: string;
}

/**
 * Lists every Task state in the definition (inside Parallel branches and Map processors too) with the
 * function its `${XFunctionArn}` Resource names. Throws on a Task naming no known placeholder, or on two
 * Tasks sharing a name with different functions (local overrides are keyed by state name).
 */
export function bindTasks(
  definition: AslDefinition,
  functions: readonly string[] = WORKFLOW_FUNCTIONS,
): TaskBinding[] {
  const byPlaceholder = new Map<string, string>(functions.map((fn) => [`\${${arnPlaceholder(fn)}}`, fn]));
  const bindings = new Map<string, string>();
  forEachState(definition, (name, state) => {
    if (state.Type === 'Task') {
      const fn = state.Resource === undefined ? undefined : byPlaceholder.get(state.Resource);
      if (!fn)
        throw new Error(
          `Task state ${name} has Resource ${state.Resource}, which names no workflow function`,
        );
      const bound = bindings.get(name);
      if (bound && bound !== fn)
        throw new Error(`Task state name ${name} is used for both ${bound} and ${fn}`);
      bindings.set(name, fn);
    }
  });
  return [...bindings].map(([state, fn]) => ({ state, fn }));
}

/** Every state name that has a Retry field, at any depth. */
function statesWithRetry(definition: AslDefinition): string[] {
  const names: string[] = [];
  forEachState(definition, (name, state) => {
    if (state.Retry) names.push(name);
  });
  return names;
}

/** Replaces each `${XFunctionArn}` with its local ARN, as CDK's definitionSubstitutions does in AWS. */
export function substituteArns(
  definition: AslDefinition,
  functions: readonly string[] = WORKFLOW_FUNCTIONS,
): AslDefinition {
  let text = JSON.stringify(definition);
  for (const fn of functions) text = text.replaceAll(`\${${arnPlaceholder(fn)}}`, localFunctionArn(fn));
  return JSON.parse(text) as AslDefinition;
}

/**
 * Calls a handler the way Lambda does: the event and the result cross a JSON boundary, and a thrown
 * error reaches Retry/Catch as Lambda reports it: Error = the error's `name` (Lambda's errorType), and
 * Cause = the JSON document {errorType, errorMessage, trace} that Step Functions shows in AWS.
 */
function asLambda(handler: TaskHandler): LocalHandler {
  return async (event) => {
    let result: unknown;
    try {
      result = await handler(JSON.parse(JSON.stringify(event ?? null)));
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      const cause = JSON.stringify({
        errorType: error.name,
        errorMessage: error.message,
        trace: (error.stack ?? '').split('\n'),
      });
      throw Object.assign(new Error(cause, { cause: error }), { name: error.name });
    }
    return (result === undefined ? null : JSON.parse(JSON.stringify(result))) as ReturnType<
      typeof JSON.parse
    >;
  };
}

/** The local WorkflowStarter: starts executions in the background; drain() waits for them. */
export class LocalWorkflow implements WorkflowStarter {
  /** The definition as written (placeholders intact): what CDK deploys. */
  readonly definition: AslDefinition;
  /** The definition actually executed, with local ARNs substituted. */
  readonly executedDefinition: AslDefinition;
  readonly bindings: readonly TaskBinding[];
  private readonly functions: readonly string[];
  private readonly name: string;
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly machine: StateMachine;
  private readonly overrides: RunOverrides;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: LocalWorkflowOptions) {
    this.definition = options.definition ?? (inboundDefinition() as unknown as AslDefinition);
    this.functions = options.functions ?? WORKFLOW_FUNCTIONS;
    this.name = options.name ?? 'seg-inbound';
    this.bindings = bindTasks(this.definition, this.functions);
    this.executedDefinition = substituteArns(this.definition, this.functions);
    // The library annotates the document it is given (QueryLanguage on each state): give it a copy, so
    // executedDefinition stays the substituted deployed document.
    this.machine = new StateMachine(
      structuredClone(this.executedDefinition) as ConstructorParameters<typeof StateMachine>[0],
    );
    const taskResourceLocalHandlers = Object.fromEntries(
      this.bindings.map(({ state, fn }) => {
        const handler = options.handlers[fn];
        if (!handler) throw new Error(`no local handler for ${fn} (Task state ${state})`);
        return [state, asLambda(handler)];
      }),
    );
    const ms = options.retryIntervalMs;
    this.overrides =
      ms === undefined
        ? { taskResourceLocalHandlers }
        : {
            taskResourceLocalHandlers,
            retryIntervalOverrides: Object.fromEntries(statesWithRetry(this.definition).map((s) => [s, ms])),
          };
  }

  /** Starts an execution and returns at once, as StartExecution does. */
  async start(input: WorkflowInput): Promise<{ executionId: string }> {
    const name = `${input.messageId}-${randomUUID().slice(0, 8)}`;
    const executionId = `arn:aws:states:local:000000000000:express:${this.name}:${name}`;
    this.executions.set(executionId, { executionId, input, status: 'RUNNING' });
    const execution = this.machine.run(JSON.parse(JSON.stringify(input)), {
      overrides: this.overrides,
      context: {
        Execution: { Id: executionId, Name: name },
        StateMachine: {
          Id: `arn:aws:states:local:000000000000:stateMachine:${this.name}`,
          Name: this.name,
        },
      },
    });
    const done = execution.result.then(
      (output) => {
        const record: ExecutionRecord = { executionId, input, status: 'SUCCEEDED', output };
        this.executions.set(executionId, record);
        this.options.onExecutionSucceeded?.(record);
      },
      (thrown: unknown) => {
        const error = rootError(thrown);
        this.executions.set(executionId, {
          executionId,
          input,
          status: 'FAILED',
          error: { name: error.name, message: error.message },
        });
        this.options.onExecutionFailed?.(executionId, error);
      },
    );
    const tracked = done.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    return { executionId };
  }

  /** Resolves when every execution started so far (and any they started) has ended. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}

/** aws-local-stepfunctions wraps the failing state's error in ExecutionError; report the original. */
function rootError(thrown: unknown): Error {
  if (!(thrown instanceof Error)) return new Error(String(thrown));
  const failed = thrown.name === 'ExecutionError' && thrown.cause instanceof Error ? thrown.cause : thrown;
  // A task error carries the handler's own error as its cause (see asLambda).
  return failed.cause instanceof Error && failed.cause.name === failed.name ? failed.cause : failed;
}
