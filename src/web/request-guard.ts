/**
 * What keeps another web site from using the viewer through the user's browser.
 *
 * - Every request must name the viewer's own address in `Host`: a page on another domain that
 *   re-points its name at 127.0.0.1 (DNS rebinding) is refused before it can read anything.
 * - Reads carry no CORS headers, so another origin cannot read a response.
 * - A changing request (anything but GET/HEAD) must come from the viewer's own origin (`Origin`,
 *   `Sec-Fetch-Site`), be JSON (which no HTML form can send, and which needs a CORS preflight we
 *   never grant), and carry the token printed at start-up (`Authorization: Bearer …` or
 *   `X-Overseer-Token`). The page learns the token from the URL's fragment, which browsers never
 *   send to a server, so no response of ours contains it.
 * - Pages may not be framed by another site (clickjacking an Approve button).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';

export interface GuardOptions {
  token: string;
  /** The `host:port` values the viewer answers to. */
  hosts: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The hosts a viewer bound to `host:port` answers to: that address, and `localhost` for loopback. */
export function allowedHosts(host: string, port: number): string[] {
  const names = host === '127.0.0.1' || host === 'localhost' ? ['127.0.0.1', 'localhost'] : [host];
  return names.flatMap((name) => (port === 80 ? [name, `${name}:80`] : [`${name}:${String(port)}`]));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function presentedToken(c: Context): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  return bearer ?? c.req.header('x-overseer-token');
}

function refuse(c: Context, status: 403 | 415, error: string): Response {
  return c.json({ error }, status);
}

export function requestGuard(options: GuardOptions): MiddlewareHandler {
  const hosts = new Set(options.hosts.map((h) => h.toLowerCase()));
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  const expected = digest(options.token);

  return async (c, next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    if (!hosts.has((c.req.header('host') ?? '').toLowerCase())) return refuse(c, 403, 'unexpected Host header');
    if (SAFE_METHODS.has(c.req.method)) return next();

    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) return refuse(c, 403, `cross-origin request refused (Origin ${origin})`);
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return refuse(c, 403, `cross-site request refused (Sec-Fetch-Site ${site})`);
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') return refuse(c, 415, 'changing requests must be application/json');
    const token = presentedToken(c);
    // Compared as digests: equal lengths for timingSafeEqual, and no timing hint about the token.
    if (token === undefined || !timingSafeEqual(digest(token), expected)) {
      return refuse(c, 403, 'missing or wrong token: use the one `overseer serve` printed at start-up');
    }
    return next();
  };
}
