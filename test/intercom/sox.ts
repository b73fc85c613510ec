// Measuring test audio with sox: `stat` prints RMS amplitude and a rough
// frequency (from zero crossings). Leading and trailing silence is cut first.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';

export interface SoxStat {
  rms: number;
  freq: number;
  seconds: number;
}

export function soxStat(file: string, raw?: { rate: number }): SoxStat {
  const input = raw ? ['-t', 'raw', '-r', String(raw.rate), '-e', 'signed', '-b', '16', '-c', '1', file] : [file];
  const r = spawnSync('sox', [...input, '-n', 'silence', '1', '0.02', '1%', 'reverse', 'silence', '1', '0.02', '1%', 'reverse', 'stat'], { encoding: 'utf8' });
  return statOf(String(r.stderr) + String(r.stdout));
}

function statOf(text: string): SoxStat {
  return { rms: num(text, /RMS\s+amplitude:\s+([\d.]+)/), freq: num(text, /Rough\s+frequency:\s+(\d+)/), seconds: num(text, /Length \(seconds\):\s+([\d.]+)/) };
}

export function soxStatFull(file: string): SoxStat {
  const r = spawnSync('sox', [file, '-n', 'stat'], { encoding: 'utf8' });
  return statOf(String(r.stderr) + String(r.stdout));
}

function num(text: string, re: RegExp): number {
  const m = re.exec(text);
  if (!m) throw new Error(`sox stat: no ${re} in\n${text}`);
  return Number(m[1]);
}

/** A mono 16-bit tone WAV made by sox. */
export function makeTone(file: string, hz: number, seconds: number, rate = 8000, gain = 0.3): string {
  execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', file, 'synth', String(seconds), 'sine', String(hz), 'vol', String(gain)]);
  return file;
}

/**
 * What a kiosk played (its raw 16 kHz capture) is what a phone sent (its WAV): the same frequency (5 %), the same
 * level (15 %: page and output volume 1), more than 2 s of it.
 */
export function assertPlayedAsSent(capture: string, sentWav: string): void {
  const got = soxStat(capture, { rate: 16000 });
  const src = soxStatFull(sentWav);
  assert.ok(Math.abs(got.freq - src.freq) / src.freq <= 0.05, `kiosk played ${got.freq} Hz, the phone sent ${src.freq} Hz`);
  assert.ok(Math.abs(got.rms - src.rms) / src.rms <= 0.15, `kiosk RMS ${got.rms} vs ${src.rms}`);
  assert.ok(got.seconds > 2, `played ${got.seconds} s`);
}
