// The ARC sets of a message, as mailauth's getARChain() reads them (arc/index.js), with each ARC
// field's tag list read by parseTagList(): mailauth's own reader goes one character at a time and
// grows each tag by string concatenation, and a seal's and a message signature's b= values are long.
// The checks and their errors are mailauth's, in its order. Equivalence is property-tested
// (test/engine/arc-chain.test.ts).

import { validateAlgorithm } from 'mailauth/lib/tools.js';
import { type HeaderRow, parseTagList, type TagList, type TagValue } from './dkim-headers.ts';

const ARC_FIELDS = ['arc-seal', 'arc-message-signature', 'arc-authentication-results'] as const;
type ArcField = (typeof ARC_FIELDS)[number];

/** One ARC set: its instance and its three fields' tag lists. */
export type ArcSet = { i: unknown } & Partial<Record<ArcField, TagList>>;

/** Whether a header is one of an ARC set's fields. */
export const isArcField = (key: string | null): boolean =>
  key === 'arc-seal' || key === 'arc-message-signature' || key === 'arc-authentication-results';

const arcError = (message: string, code: string) => Object.assign(new Error(message), { code });

/** A tag's value, as mailauth's optional chains read it. */
const tag = (list: TagList | undefined, name: string): unknown =>
  (list?.parsed[name] as TagValue | undefined)?.value;

/**
 * mailauth's getARChain({ parsed: rows }): the ARC sets by instance, in order; false when there is
 * none. Throws mailauth's error (with its code) for a broken chain.
 */
export function arcChain(rows: readonly HeaderRow[]): ArcSet[] | false {
  const byInstance = new Map<unknown, ArcSet>();
  for (const row of rows) {
    if (!isArcField(row.key)) continue;
    const key = row.key as ArcField;
    const value = parseTagList(row.line);
    const instance = tag(value, 'i');
    if (!instance) continue;
    const set = byInstance.get(instance) ?? { i: instance };
    if (set[key]) throw arcError(`i=${instance} multiple ${key} values`, 'multiple_arc_keys');
    set[key] = value;
    byInstance.set(instance, set);
  }
  const chain = [...byInstance.values()].sort((a, b) => (a.i as number) - (b.i as number));
  if (!chain.length) return false;
  if (chain.length > 50) throw arcError(`chain-length=${chain.length}`, 'invalid_arc_count');
  chain.forEach((set, i) => {
    if (set.i !== i + 1) throw arcError(`i=${set.i} expected=${i + 1}`, 'invalid_arc_instance');
    for (const key of ARC_FIELDS)
      if (!set[key]) throw arcError(`i=${set.i} no ${key} set`, 'missing_arc_header');
    const seal = set['arc-seal'];
    const signature = set['arc-message-signature'];
    const cv = tag(seal, 'cv') as string | undefined;
    if (i === 0 && cv?.toLowerCase() !== 'none') throw arcError(`i=1 cv="${cv}`, 'invalid_cv_value');
    const sealC = (tag(seal, 'c') as string | undefined)?.toLowerCase().trim();
    if (sealC && sealC !== 'relaxed/relaxed')
      throw arcError(`i=${set.i} invalid as c`, 'unexpected_as_c_value');
    if (signature?.parsed && !signature.parsed.c) signature.parsed.c = { value: 'relaxed/relaxed' };
    if (seal?.parsed.a && !tag(seal, 'a')) throw arcError(`i=${set.i} empty a`, 'invalid_a_value');
    if (!tag(seal, 'a')) throw arcError(`i=${set.i} missing a`, 'missing_a_value');
    validateAlgorithm(tag(seal, 'a'), true);
    validateAlgorithm(tag(signature, 'a'), true);
    if (i > 0 && cv?.toLowerCase() !== 'pass') throw arcError(`i=${set.i} cv=${cv}`, 'invalid_cv_value');
    if (seal?.parsed.h) throw arcError(`i=${set.i} unexpected as h`, 'unexpected_as_h_value');
    const signed = (tag(signature, 'h') as string | undefined)
      ?.trim()
      .toLowerCase()
      .split(':')
      .map((v) => v.trim())
      .filter((v) => v);
    if (signed?.some((v) => v === 'arc-seal'))
      throw arcError(`i=${set.i} invalid ams h`, 'invalid_ams_h_value');
  });
  return chain;
}
