import { RE2JS } from "re2js";

/**
 * Regular expressions from job definitions (boot `prompts`, `auto_login` prompts, the u-boot
 * `bootloader_prompt`, a test definition's `parse: pattern`) run on RE2 (`re2js`, pure JS): time
 * linear in the text, whatever the pattern, so `(a+)+$` cannot freeze the worker that matches it
 * against a DUT's console. LAVA compiles them with Python's backtracking `re`; the patterns LAVA
 * jobs use (literals, classes, alternations, `(?P<name>…)` groups) mean the same in RE2. What RE2
 * lacks — backreferences and lookaround — is refused at submission.
 */

/** Longest job-supplied pattern, in characters. */
export const MAX_JOB_PATTERN_CHARS = 1000;

/** A compiled job pattern; `literal` when the text was no regex in any engine and is matched as is. */
export type TJobPattern = { ok: true; re: RE2JS; literal: boolean } | { ok: false; message: string };

/**
 * Compiles a job-supplied pattern with RE2.
 * - valid RE2 → that pattern;
 * - valid in no engine (e.g. a prompt `[root@x` with an unbalanced bracket) → matched literally,
 *   as the worker always did with such prompts;
 * - valid for JavaScript's backtracking engine only (backreferences `\1`, `\k<n>`, lookahead
 *   `(?=`/`(?!`, lookbehind `(?<=`/`(?<!`, possessive or atomic groups…) → `{ok: false}` naming
 *   the feature.
 * Never throws.
 */
export function compileJobPattern(pattern: string): TJobPattern {
  let c = compiled.get(pattern);
  if (c === undefined) {
    c = compileUncached(pattern);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, c);
  }
  return c;
}

/**
 * Patterns compiled lately, by text (the same prompts come with every submission; RE2JS objects are
 * immutable, so one is shared by every caller), at most {@link MAX_COMPILED}, then forgotten at once.
 */
const compiled = new Map<string, TJobPattern>();
const MAX_COMPILED = 512;

function compileUncached(pattern: string): TJobPattern {
  if (pattern.length > MAX_JOB_PATTERN_CHARS)
    return { ok: false, message: `pattern is ${pattern.length} characters long, over the limit of ${MAX_JOB_PATTERN_CHARS}` };
  try {
    return { ok: true, re: RE2JS.compile(pattern), literal: false };
  } catch (e) {
    let validForJs = true;
    try {
      new RegExp(pattern);
    } catch {
      validForJs = false;
    }
    if (!validForJs) return { ok: true, re: RE2JS.compile(RE2JS.quote(pattern)), literal: true };
    const feature = /\(\?<?[=!]/.test(pattern)
      ? "lookaround ((?=, (?!, (?<=, (?<!)"
      : /\\[1-9]|\\k</.test(pattern)
        ? "backreferences (\\1, \\k<name>)"
        : undefined;
    const detail = (e as Error).message.replace(/^error parsing regexp: /, "");
    return {
      ok: false,
      message: feature
        ? `pattern '${pattern}' uses ${feature}, which the worker's linear-time regex engine (RE2) does not support`
        : `pattern '${pattern}' is not supported by the worker's linear-time regex engine (RE2): ${detail}`,
    };
  }
}
