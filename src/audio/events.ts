export interface AudioEvents {
  'audio.fault': { active: boolean; reason: string };
  'pa.started': { id: string; channel: string; text?: { en: string; 'zh-CN'?: string } };
  'pa.ended': { id: string; channel: string; reason: 'done' | 'stopped' | 'preempted' | 'error' };
}
