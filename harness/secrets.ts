/**
 * Secrets out of what pgdrill writes for people: a URL's password, key=value settings named like a
 * password, and fields named like one. A leaf (no imports), so the run directory's writers and the
 * reports mask the same way.
 */

/** A field whose value is a secret by its name: `password`, `PGPASSWORD`, `apiKey`, `token`, … */
export const SECRET_KEY = /pass(word|wd)?$|^pwd$|secret|token|api[_-]?key|credential/i;

/**
 * Masks secrets in text: the password of a URL (`postgres://app:s3cret@db` → `postgres://app:***@db`)
 * and of key=value settings (`password=s3cret`, `PGPASSWORD=s3cret` in a command).
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, "$1:***@")
    .replace(/\b(\w*(?:password|passwd)|pwd|secret|token|api[_-]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi, "$1$2***");
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
