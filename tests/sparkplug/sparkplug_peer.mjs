// An independent Sparkplug B peer for the integration tests: MQTT.js for the
// connection and Eclipse Tahu's codec (sparkplug-payload) for the payloads, so
// what plant-agent publishes is decoded by code that is not ours.
//
//   node sparkplug_peer.mjs listen <url> [client-id]     one JSON line per spBv1.0 message; with a
//                                                        client id, a persistent session (QoS 1
//                                                        messages wait on the broker while it is away)
//   node sparkplug_peer.mjs state <url> <host> <online>  the host's retained STATE (online = true|false)
//   node sparkplug_peer.mjs rebirth <url> <group> <node> an NCMD with Node Control/Rebirth = true
//
// listen prints {"topic","type","group","node","device","seq","timestamp","metrics":[...]}
// with every metric's name, alias, datatype, value, timestamp, is_historical, is_null
// and properties; a payload Tahu cannot decode prints {"topic","error"}.
import mqtt from 'mqtt';
import sparkplug from 'sparkplug-payload';
import tahuProto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

const codec = sparkplug.get('spBv1.0');
// Tahu's codec turns is_null into value null; its generated schema says whether the flag was set.
const rawPayload = tahuProto.org.eclipse.tahu.protobuf.Payload;
const [command, url, ...rest] = process.argv.slice(2);

// protobufjs gives 64-bit integers as Long objects.
function plain(value) {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object' && typeof value.toNumber === 'function') return value.toNumber();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

function describe(topic, payload) {
  const levels = topic.split('/');
  const line = { topic, type: levels[2], group: levels[1], node: levels[3], device: levels[4] ?? null };
  if (levels[1] === 'STATE') {
    return { topic, type: 'STATE', host: levels[2], state: payload.toString('utf8') };
  }
  try {
    const decoded = codec.decodePayload(payload);
    const raw = rawPayload.decode(payload);
    line.seq = decoded.seq === undefined || decoded.seq === null ? null : plain(decoded.seq);
    line.timestamp = plain(decoded.timestamp);
    line.metrics = (decoded.metrics || []).map((m, i) => ({
      name: m.name ?? null,
      alias: m.alias === undefined || m.alias === null ? null : plain(m.alias),
      type: m.type ?? null,
      value: m.value === undefined ? null : plain(m.value),
      timestamp: m.timestamp === undefined || m.timestamp === null ? null : plain(m.timestamp),
      isHistorical: m.isHistorical === true,
      isNull: raw.metrics[i].isNull === true,
      properties: m.properties ? plain(m.properties) : null,
    }));
    line.bytes = payload.length;
  } catch (e) {
    line.error = String(e);
  }
  return line;
}

function connect(clientId) {
  const options = { clean: true, reconnectPeriod: 500, protocolVersion: 4 };
  if (clientId) Object.assign(options, { clean: false, clientId });
  return mqtt.connect(url, options);
}

if (command === 'listen') {
  const client = connect(rest[0]);
  client.on('connect', () => {
    client.subscribe('spBv1.0/#', { qos: 1 }, () => process.stderr.write('subscribed\n'));
  });
  client.on('message', (topic, payload) => {
    process.stdout.write(JSON.stringify(describe(topic, payload)) + '\n');
  });
  process.on('SIGTERM', () => client.end(true, () => process.exit(0)));
} else if (command === 'state') {
  const [host, online] = rest;
  const client = connect();
  client.on('connect', () => {
    const body = JSON.stringify({ online: online === 'true', timestamp: Date.now() });
    client.publish(`spBv1.0/STATE/${host}`, body, { qos: 1, retain: true }, (err) => {
      if (err) process.stderr.write(String(err) + '\n');
      client.end(false, () => process.exit(err ? 1 : 0));
    });
  });
} else if (command === 'rebirth') {
  const [group, node] = rest;
  const client = connect();
  client.on('connect', () => {
    const payload = codec.encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }],
    });
    client.publish(`spBv1.0/${group}/NCMD/${node}`, payload, { qos: 0 }, (err) => {
      if (err) process.stderr.write(String(err) + '\n');
      client.end(false, () => process.exit(err ? 1 : 0));
    });
  });
} else {
  process.stderr.write('usage: sparkplug_peer.mjs listen|state|rebirth <url> ...\n');
  process.exit(2);
}
