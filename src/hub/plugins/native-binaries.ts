// The kiosks' binary host: the native addon's prebuilt tarballs, read-only at
// /native/ (laid out v<version>/<tarball>, as node-pre-gyp asks for them), so
// a site whose kiosks have no internet installs the echo canceller from its
// own hub (HELPPOINT_DSP_BINARY_HOST=http://hub:8080/native/ before npm ci).
// Public like /static/: the kiosk installing has no token yet, and the files
// hold no data. No listing.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// src/hub/plugins or dist/src/hub/plugins: the installation's own prebuilt folder.
const OWN = [path.resolve(HERE, '../../../native/dsp/prebuilt'), path.resolve(HERE, '../../../../native/dsp/prebuilt')];

export default async function nativeBinaries(app: FastifyInstance) {
  const { config, configDir, log } = app.hub;
  const configured = config.binaries?.dir ? path.resolve(configDir, config.binaries.dir) : undefined;
  const root = configured ?? OWN.find((d) => existsSync(d));
  if (!root) {
    log.info('no prebuilt native binaries to serve at /native/ (build them with native/dsp/scripts/prebuild.sh, or set binaries.dir)');
    return;
  }
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    // Configured but absent: say so at start; kiosks asking get 404 and build from source.
    log.warn({ dir: root }, 'binaries.dir is not a folder: /native/ serves nothing');
    return;
  }
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/native/')) r.config = Object.assign(r.config ?? {}, { public: true });
  });
  await app.register(fastifyStatic, { root, prefix: '/native/', index: false, list: false, dotfiles: 'deny', decorateReply: false });
  log.info({ dir: root }, 'serving prebuilt native binaries at /native/');
}
