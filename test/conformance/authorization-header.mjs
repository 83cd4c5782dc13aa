// Presents a credential to the endpoint under test, for a gateway that wants one:
// `node --import <this file> …` with CONFORMANCE_AUTHORIZATION (the `Authorization` value) and
// CONFORMANCE_ORIGIN (the endpoint's origin) in the environment. Nothing else gets the header.
//
// The conformance CLI has no option for request headers, and it reaches the server two ways: the MCP
// SDK client (global fetch) and undici's request() (the DNS-rebinding scenario, which sets its own
// Host and Origin). Both go through undici, which announces every request on the
// 'undici:request:create' diagnostics channel before sending it; a header added there is sent.

const diagnostics = process.getBuiltinModule('node:diagnostics_channel');
const authorization = process.env.CONFORMANCE_AUTHORIZATION;
const origin = process.env.CONFORMANCE_ORIGIN;
if (!authorization || !origin) {
  throw new Error('authorization-header: set CONFORMANCE_AUTHORIZATION and CONFORMANCE_ORIGIN');
}

diagnostics.subscribe('undici:request:create', ({ request }) => {
  if (new URL(String(request.origin)).origin === origin) request.addHeader('authorization', authorization);
});

// The 2026-07-28 pre-release also sends some requests with node:http's request() (the header
// validation scenarios), which no diagnostics channel lets us add a header to in time: that one
// function is wrapped, for requests given as an options object to the endpoint's host and port.
const http = process.getBuiltinModule('node:http');
const { syncBuiltinESMExports } = process.getBuiltinModule('node:module');
const target = new URL(origin);
const request = http.request;
http.request = function requestWithAuthorization(options, ...rest) {
  if (
    options &&
    typeof options === 'object' &&
    !(options instanceof URL) &&
    (options.hostname ?? options.host) === target.hostname &&
    String(options.port) === target.port
  ) {
    options = { ...options, headers: { ...options.headers, authorization } };
  }
  return request.call(this, options, ...rest);
};
syncBuiltinESMExports();
