// clients.js - send events to lrecv with the real npm Forward clients.
//   node clients.js fluent-logger MODE PORT N [SHAREDKEY]
//   node clients.js fluent-org MODE PORT N [SHAREDKEY]
// MODE is Message, Forward, PackedForward or CompressedPackedForward;
// every event asks for an ack.  Prints "sent N" when all were acked.
'use strict';
const [lib, mode, port, count, key] = process.argv.slice(2);
const n = Number(count);
const timer = setTimeout(() => { console.log('timeout'); process.exit(1); },
    20000);

async function fluentOrg() {
	const { FluentClient } = require('@fluent-org/logger');
	const opts = { socket: { host: '127.0.0.1', port: Number(port) },
	    eventMode: mode, ack: { ackTimeout: 5000 },
	    flushInterval: 10 };
	if (key)
		opts.security = { clientHostname: 'node.example', sharedKey: key };
	const c = new FluentClient('node.org', opts);
	const all = [];
	for (let i = 0; i < n; i++)
		all.push(c.emit(mode, { i, lib: 'fluent-org' }));
	await Promise.all(all);
	await c.shutdown();
}

function fluentLogger() {
	return new Promise((resolve, reject) => {
		const opts = { host: '127.0.0.1', port: Number(port), timeout: 5,
		    requireAckResponse: true, ackResponseTimeout: 5000,
		    eventMode: mode, flushInterval: 10 };
		if (key)
			opts.security = { clientHostname: 'node.example',
			    sharedKey: key };
		const sender = require('fluent-logger').createFluentSender(
		    'node.logger', opts);
		let left = n;
		sender.on('error', reject);
		for (let i = 0; i < n; i++)
			sender.emit(mode, { i, lib: 'fluent-logger' }, (err) => {
				if (err)
					return reject(err);
				if (--left === 0) {
					sender.end();
					resolve();
				}
			});
	});
}

(lib === 'fluent-org' ? fluentOrg() : fluentLogger()).then(() => {
	clearTimeout(timer);
	console.log('sent ' + n);
}, (err) => {
	console.log('error ' + (err && err.message));
	process.exit(1);
});
