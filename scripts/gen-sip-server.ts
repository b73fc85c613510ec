// Rewrites device/sip-server/kamailio.cfg from src/sipserver/ (the routing the tests run).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { productionKamailioCfg } from '../src/sipserver/production.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../device/sip-server/kamailio.cfg');
writeFileSync(out, productionKamailioCfg());
console.log(`wrote ${path.relative(process.cwd(), out)}`);
