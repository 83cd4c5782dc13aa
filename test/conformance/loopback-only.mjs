// Refuses every outbound TCP/TLS connection that does not go to the loopback interface, so a run of
// the conformance CLI cannot download or report anything: `node --import <this file> …`.
// A refused attempt fails the socket with an error and prints one line starting with
// 'loopback-only: blocked' on stderr, which the harness (run-conformance.ts) turns into a failure.

const net = process.getBuiltinModule('node:net');
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function guardedConnect(...args) {
  // net.connect() passes its normalized [options, callback] array; direct calls pass
  // (options[, cb]), (path[, cb]) or (port[, host][, cb]).
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  let host;
  if (first !== null && typeof first === 'object') {
    if (first.path == null) host = first.host ?? 'localhost';
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
  }
  if (host === undefined || isLoopback(host)) return connect.apply(this, args);
  process.stderr.write(`loopback-only: blocked a connection to ${host}\n`);
  const error = new Error(`loopback-only: connection to ${host} refused (no network access at run time)`);
  error.code = 'ECONNREFUSED';
  process.nextTick(() => this.destroy(error));
  return this;
};

/** @param {string} host */
function isLoopback(host) {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    bare === 'localhost' ||
    bare === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare)
  );
}
