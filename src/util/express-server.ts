// An HTTP server whose request and response objects are born with an Express app's prototypes.
//
// Express gives every request its app's methods by changing the prototype of Node's req and res
// (`Object.setPrototypeOf(req, app.request)`). On V8 that costs more than the call: measured here, every request's
// objects then outlived the next scavenge and were promoted, so each scavenge took 3–9 ms instead of 0.3 ms, and that
// pause landed on whichever request was running (the `$validate` p99). When Node constructs req and res with those
// prototypes already, Express's call finds the prototype in place and changes nothing (expressjs/express#5998 proposes
// the same). Routes behave as before: the objects are still instances of Node's classes.
import http, { type RequestListener } from 'node:http';
import type { Express } from 'express';

/**
 * A constructor for `base`'s instances with `prototype` from the start. Node's IncomingMessage and ServerResponse are
 * plain constructor functions, initialised here by calling them on the new object. (Reflect.construct with a new
 * target gives the same prototype, but measured here it kept the slow scavenges: do not "simplify" to it.)
 */
function bornWith<T extends typeof http.IncomingMessage | typeof http.ServerResponse>(base: T, prototype: object): T {
  let Born: (this: object, ...args: unknown[]) => unknown;
  if (Function.prototype.toString.call(base).startsWith('class')) {
    // A Node whose classes cannot be called: still the right prototypes, so still correct.
    Born = function (...args: unknown[]): unknown {
      return Reflect.construct(base as unknown as new (...a: unknown[]) => object, args, Born);
    };
  } else {
    const init = base as unknown as (this: object, ...args: unknown[]) => void;
    Born = function (this: object, ...args: unknown[]): void {
      init.apply(this, args);
    };
  }
  Born.prototype = prototype;
  return Born as unknown as T;
}

/** The `http.createServer` options for `app`: its request and response prototypes given at construction. */
export function expressServerOptions(app: Express): http.ServerOptions {
  return {
    IncomingMessage: bornWith(http.IncomingMessage, app.request),
    ServerResponse: bornWith(http.ServerResponse, app.response),
  };
}

/** `http.createServer` for `app`; `handler` (default: the app) may wrap it, e.g. to answer while draining. */
export function createExpressServer(app: Express, handler: RequestListener = app): http.Server {
  return http.createServer(expressServerOptions(app), handler);
}
