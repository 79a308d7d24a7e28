/**
 * Secrets out of what pgdrill writes for people: a URL's password, key=value settings named like a
 * password, fields named like one, and the literal value of every secret pgdrill was handed (a
 * scenario's, the environment's), so a command that echoes `$PGPASSWORD` bare is masked too. A leaf
 * (no imports), so the run directory's writers, the console and the reports mask the same way.
 */

/** A field whose value is a secret by its name: `password`, `PGPASSWORD`, `apiKey`, `token`, … */
export const SECRET_KEY = /pass(word|wd)?$|^pwd$|secret|token|api[_-]?key|credential/i;

/**
 * An environment variable whose value is a secret by its name: the name ends so (`PGPASSWORD`,
 * `GITHUB_TOKEN`, `MY_DB_PASS`). Stricter than SECRET_KEY: `PWD` is the working directory, and
 * `TOKEN_ENABLED=true` must not mask every "true".
 */
const SECRET_ENV = /(pass(word|wd)?|secret|token|api[_-]?key|credentials?)$/i;

/** Shorter values are not masked by value (they would mask ordinary text); the patterns still mask them. */
export const MIN_LITERAL = 4;

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):([^\s/@]*)@/gi;
const KV_PASSWORD = /\b(\w*(?:password|passwd)|pwd|secret|token|api[_-]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi;

/** Secrets pgdrill was handed in a scenario (rememberSecrets), masked by value from then on. */
const remembered = new Set<string>();

/** The secrets a text names by pattern: URL passwords and key=value passwords (quotes stripped). */
function secretsInText(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(URL_PASSWORD)) found.push(safeDecode(match[2] ?? ""), match[2] ?? "");
  for (const match of text.matchAll(KV_PASSWORD)) found.push((match[3] ?? "").replace(/^(["'])(.*)\1$/, "$2"));
  return found;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Remembers every secret in a value pgdrill was handed (a scenario as typed, a URL argument): URL
 * passwords, key=value passwords and secret-named fields, so each is masked by value wherever it
 * shows up later (a command's output, an error). Called where input enters (scenario validation).
 */
export function rememberSecrets(value: unknown): void {
  const walk = (item: unknown, key: string): void => {
    if (typeof item === "string") {
      if (SECRET_KEY.test(key)) remember(item);
      for (const secret of secretsInText(item)) remember(secret);
    } else if (Array.isArray(item)) {
      for (const inner of item) walk(inner, key);
    } else if (typeof item === "object" && item !== null) {
      for (const [sub, inner] of Object.entries(item)) walk(inner, sub);
    }
  };
  walk(value, "");
}

function remember(secret: string): void {
  if (secret.length >= MIN_LITERAL && secret !== "***") remembered.add(secret);
}

/** The environment's secrets: values of secret-named variables, and the passwords inside any value (DATABASE_URL). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_ENV.test(name)) found.push(value);
    found.push(...secretsInText(value));
  }
  return found.filter((secret) => secret.length >= MIN_LITERAL && secret !== "***");
}

/** Every secret known now, longest first (so a password containing another is masked whole). */
export function knownSecrets(): string[] {
  return [...new Set([...remembered, ...environmentSecrets()])].sort((a, b) => b.length - a.length);
}

/** Masks the given secrets' literal values in text. */
export function maskLiterals(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (masked.includes(secret)) masked = masked.split(secret).join("***");
  return masked;
}

/** A masker of the secrets known now, for a writer of many lines (the History): cheap when there are none. */
export function secretMasker(): (text: string) => string {
  const secrets = knownSecrets();
  return secrets.length === 0 ? (text) => text : (text) => maskLiterals(text, secrets);
}

/**
 * Masks secrets in text: the password of a URL (`postgres://app:s3cret@db` → `postgres://app:***@db`),
 * of key=value settings (`password=s3cret`, `PGPASSWORD=s3cret` in a command), and every known
 * secret's value wherever it appears (a command that printed `$PGPASSWORD`).
 */
export function redactSecrets(text: string): string {
  return maskLiterals(text.replace(URL_PASSWORD, "$1:***@").replace(KV_PASSWORD, "$1$2***"), knownSecrets());
}

/**
 * A JSON value with every string masked, and every string under a secret-named field replaced
 * whole: what a run directory may keep of a scenario (`pgdrill watch URL` puts the URL in it).
 */
export function redactJson<T>(value: T): T {
  const walk = (item: unknown, key: string): unknown => {
    if (typeof item === "string") return SECRET_KEY.test(key) && item !== "" ? "***" : redactSecrets(item);
    if (Array.isArray(item)) return item.map((inner) => walk(inner, key));
    if (typeof item === "object" && item !== null) {
      return Object.fromEntries(Object.entries(item).map(([sub, inner]) => [sub, walk(inner, sub)]));
    }
    return item;
  };
  return walk(value, "") as T;
}
