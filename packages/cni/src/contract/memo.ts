/**
 * A bounded memo for pure functions of text: every pod ADD on a node reads the same configuration,
 * subnet.env and ranges, so parsing them once per distinct text keeps a 150,000-pod build linear in
 * pods without re-parsing. The map is cleared when it reaches `limit` entries, so memory stays bounded
 * whatever texts come in.
 */
export function textMemo<V>(compute: (key: string) => V, limit = 20_000): (key: string) => V {
  const map = new Map<string, V>();
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
