// ============================================================================================
// DEVELOPMENT SHIM — DELETE WHEN THE SERVER HAS COOKIE SESSIONS (see web/BACKEND-CONTRACT.md §1)
// ============================================================================================
//
// The web application is written for the final contract: it signs in with
// `POST /api/v1/auth/login {"username","password","session":"cookie"}`, the server answers with
// an HttpOnly SameSite=Lax cookie, and every later request carries that cookie
// (`credentials: 'same-origin'`, no Authorization header). The CSRF check is the `Origin`
// header, which browsers send by themselves on same-origin POST/PUT/PATCH/DELETE.
//
// Until the server does this, this Vite plugin plays the server's part in front of it, in the
// dev server (`npm run dev`) and in `vite preview` (which scripts/e2e uses to serve web/dist):
//   * login: the request is passed on; when the answer carries a bearer `token` (today's
//     server), the token is moved into an HttpOnly cookie and taken out of the body, so page
//     scripts never see it. When the answer carries no token (a server with cookie sessions),
//     it is passed back untouched, Set-Cookie included, and this shim does nothing more.
//   * every other /api/ request with the shim's cookie: state-changing methods must carry an
//     `Origin` equal to the page's own origin (else 403, as the server will answer), then the
//     cookie is turned into `Authorization: Bearer …` for the proxy to pass on.
//   * logout: passed on, then the cookie is cleared.
// Nothing of this reaches web/dist: the built application contains no bearer-token code.
//
// To remove: delete this file and the `sessionShim()` line in vite.config.ts.
import type { Plugin, Connect } from 'vite'
import type { IncomingMessage, ServerResponse } from 'node:http'

const COOKIE = 'pf_dev_session'

function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return decodeURIComponent(v.join('='))
  }
  return undefined
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function problem(res: ServerResponse, status: number, code: string, detail: string) {
  res.statusCode = status
  res.setHeader('content-type', 'application/problem+json')
  res.end(JSON.stringify({ type: 'about:blank', title: code, status, detail, code }))
}

async function relay(
  target: string,
  req: IncomingMessage,
  body: Buffer | undefined,
  extra: Record<string, string>,
) {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && !['host', 'connection', 'content-length', 'cookie'].includes(k)) headers[k] = v
  }
  Object.assign(headers, extra)
  return fetch(target + (req.url ?? ''), {
    method: req.method,
    headers,
    body: body && body.length ? body : undefined,
  })
}

function middleware(target: string): Connect.NextHandleFunction {
  return (req, res, next) => {
    const url = req.url ?? ''
    if (!url.startsWith('/api/')) return next()
    const token = readCookie(req, COOKIE)
    const method = (req.method ?? 'GET').toUpperCase()

    if (url.startsWith('/api/v1/auth/login') && method === 'POST') {
      void (async () => {
        const body = await readBody(req)
        const answer = await relay(target, req, body, {})
        const text = await answer.text()
        let json: Record<string, unknown> | undefined
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        res.statusCode = answer.status
        if (answer.ok && json && typeof json.token === 'string') {
          const { token: t, ...rest } = json
          res.setHeader('set-cookie', `${COOKIE}=${encodeURIComponent(t as string)}; HttpOnly; SameSite=Lax; Path=/`)
          res.setHeader('content-type', 'application/json')
          res.end(JSON.stringify(rest))
          return
        }
        answer.headers.forEach((v, k) => {
          if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'set-cookie'].includes(k)) res.setHeader(k, v)
        })
        const cookies = answer.headers.getSetCookie?.() ?? []
        if (cookies.length) res.setHeader('set-cookie', cookies)
        res.end(text)
      })().catch((e) => problem(res, 502, 'unavailable', `开发代理无法连接服务:${e}`))
      return
    }

    if (!token) return next()

    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      const origin = req.headers.origin
      const own = `http://${req.headers.host}`
      if (origin !== own) {
        return problem(res, 403, 'csrf_failed', '请求来源不符,已拒绝(跨站请求校验)')
      }
    }
    req.headers.authorization = `Bearer ${token}`
    if (url.startsWith('/api/v1/auth/logout')) {
      res.setHeader('set-cookie', `${COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0`)
    }
    next()
  }
}

export function sessionShim(target: string): Plugin {
  return {
    name: 'pilotflow-dev-session-shim',
    configureServer(server) {
      server.middlewares.use(middleware(target))
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware(target))
    },
  }
}
