/**
 * POSIX single-quote escaping, for the rare places a command string is
 * unavoidable (a line of commands.sh, an SSH exec request). `'...'` with each
 * `'` written as `'\''` is understood by every POSIX sh, unlike bash's `$'...'`.
 */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteWord(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}
