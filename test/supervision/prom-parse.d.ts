// parse-prometheus-text-format ships no types: the part the tests use.
declare module 'parse-prometheus-text-format' {
  export default function parse(text: string): { name: string; help: string; type: string; metrics: { value?: string; labels?: Record<string, string> }[] }[];
}
