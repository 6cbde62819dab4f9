/**
 * A bounded memo for pure functions of text: every pod ADD on a node reads the same configuration,
 * subnet.env and ranges, so parsing them once per distinct text keeps a 150,000-pod build linear in
 * pods without re-parsing. The map is cleared when it reaches `limit` entries, so memory stays bounded
 * whatever texts come in. A key may be a number too (an address whose text is kept, host-local's keyText).
 */
export function textMemo<V, K extends string | number = string>(compute: (key: K) => V, limit = 20_000): (key: K) => V {
  const map = new Map<K, V>();
  return (key) => {
    let v = map.get(key);
    if (v === undefined && !map.has(key)) {
      if (map.size >= limit) map.clear();
      v = compute(key);
      map.set(key, v);
    }
    return v as V;
  };
}
