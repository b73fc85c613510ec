// Audio and a new config, live: the output device (re-opened and probed like
// at start), the volume (base, zones, times, adaptive; zone and time zone),
// the PA rules, fades and emergency volume, chimes and languages, schedules,
// paging groups, music and where clips come from. The mixer's rate and frame
// length (every stream, resampler and codec is built on them) and the
// microphone (shared with the intercom) are fixed at start: a change to them,
// or to any setting not handled here, needs a restart.
import type { Reconfigured } from '../core/capability.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { AudioInput } from './types.js';
import { differsOutside, sameAt } from '../kiosk/config-diff.js';
import { Arbiter } from './arbiter.js';
import { hubHttpBase } from './clips.js';
import { volumeFor, mixerRulesFor, type AudioEngine } from './engine.js';
import type { Lang } from './messages.js';

const OUTPUT = ['audio.output.sink', 'audio.output.device', 'audio.output.file'];
const VOLUME = ['audio.volume', 'pa.volume', 'zone', 'site.timezone'];
const RULES = ['pa.rules', 'pa.duckLevel'];
const PA_DEFAULTS = ['pa.chime', 'pa.languages'];
const SCHEDULE = ['pa.schedule', 'site.timezone'];
const CLIPS = ['hub.url', 'hub.backupUrls', 'hub.token', 'hub.pins'];
/** everything this file applies live; any other difference in audio or pa needs a restart */
const LIVE = [...OUTPUT, ...VOLUME, ...RULES, ...PA_DEFAULTS, ...SCHEDULE, 'pa.fadeMs', 'pa.emergencyVolume', 'pa.multicast', 'pa.music'];

export async function reconfigureAudio(engine: AudioEngine, prev: KioskConfig, next: KioskConfig, microphone?: AudioInput): Promise<Reconfigured> {
  const pick = (c: KioskConfig) => ({ audio: c.audio, pa: c.pa });
  if (differsOutside(pick(prev), pick(next), LIVE)) return 'restart';
  const changed = (paths: readonly string[]) => !sameAt(prev, next, paths);
  let applied = false;
  const did = () => (applied = true);

  if (changed(OUTPUT)) {
    await engine.openOutput(next.audio.output);
    did();
  }
  if (changed(VOLUME)) {
    const v = volumeFor(next);
    v.ambientDbfs = engine.volume.ambientDbfs; // the surroundings did not change
    engine.volume = v;
    engine.mixer.volume = v.current();
    const wants = !!next.pa.volume?.adaptive;
    if (wants !== !!prev.pa.volume?.adaptive) {
      // adaptive volume leases the (raw) microphone while attached and lets go when detached
      if (wants && microphone) void engine.attachMicrophone(microphone);
      else engine.detachMicrophone();
    }
    did();
  }
  if (changed(RULES)) {
    engine.mixer.arbiter = new Arbiter(mixerRulesFor(next));
    did();
  }
  if (changed(['pa.fadeMs'])) {
    engine.mixer.fadeMs = next.pa.fadeMs ?? 250;
    did();
  }
  if (changed(['pa.emergencyVolume'])) {
    engine.mixer.emergencyVolume = next.pa.emergencyVolume ?? 1;
    did();
  }
  if (changed(PA_DEFAULTS)) {
    const languages = (next.pa.languages ?? ['zh-CN', 'en']) as Lang[];
    engine.pa.setDefaults({ chime: next.pa.chime, languages });
    void engine.library.preload(languages).catch(() => undefined); // a missing language shows when it is played
    did();
  }
  if (changed(SCHEDULE)) {
    engine.scheduler.stop();
    engine.scheduler = engine.schedulerFor(next);
    engine.scheduler.start();
    did();
  }
  // the zone also picks which hub pages the pager takes (pa.hubPages itself needs a restart)
  if (changed(['pa.multicast', 'zone'])) {
    engine.pager.stop(); // a page in progress on a group ends here
    engine.pager = engine.pagerFor(next);
    await engine.pager.start();
    did();
  }
  if (changed(['pa.music'])) {
    engine.music?.stop();
    engine.music = engine.musicFor(next);
    engine.music?.start();
    did();
  }
  if (changed(CLIPS)) {
    // still the instance the link is on, when it is one of the new URLs (the link stays there)
    const hubs = next.hub ? [next.hub.url, ...(next.hub.backupUrls ?? [])] : [];
    const on = engine.connectedHub && hubs.includes(engine.connectedHub) ? engine.connectedHub : next.hub?.url;
    engine.clips.updateSource({ baseUrl: hubHttpBase(on), token: next.hub?.token, pins: next.hub?.pins });
    did();
  }
  return applied ? 'applied' : 'unchanged';
}
