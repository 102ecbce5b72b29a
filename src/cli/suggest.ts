// "Did you mean …?" for a mistyped command or option, as git, cobra (hydra) and artisan do,
// instead of the whole usage text.

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[t.length] ?? 0;
}

/**
 * The known names closest to what was typed: a small edit distance (a third of the name, at
 * least 2), or a name of which the input is the part after the colon or a part of (`show` →
 * `reseller:show`, `resource-server` → every resource-server command). At most three, closest first.
 */
export function suggestions(typed: string, known: readonly string[]): string[] {
  const input = typed.toLowerCase();
  if (input === '') return [];
  const scored = known
    .map((name) => {
      const lower = name.toLowerCase();
      const edits = distance(input, lower);
      if (edits <= Math.max(2, Math.floor(lower.length / 3))) return { name, score: edits };
      if (lower.split(':').includes(input) || (input.length >= 3 && lower.includes(input))) return { name, score: 10 };
      return undefined;
    })
    .filter((s): s is { name: string; score: number } => s !== undefined);
  return scored
    .sort((a, b) => a.score - b.score)
    .slice(0, 3)
    .map((s) => s.name);
}

/** ` Did you mean "x"?` / ` Did you mean one of "x", "y"?` / nothing. */
export function didYouMean(typed: string, known: readonly string[], prefix = ''): string {
  const found = suggestions(typed, known).map((name) => `"${prefix}${name}"`);
  if (found.length === 0) return '';
  return found.length === 1 ? ` Did you mean ${found[0]}?` : ` Did you mean one of ${found.join(', ')}?`;
}
