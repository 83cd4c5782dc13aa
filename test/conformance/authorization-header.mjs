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
