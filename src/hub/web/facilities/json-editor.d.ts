// The parts of @json-editor/json-editor this console uses (the package ships no types).
declare module '@json-editor/json-editor' {
  export interface JsonEditorError {
    path: string;
    property: string;
    message: string;
  }
  export class JSONEditor {
    constructor(element: HTMLElement, options: Record<string, unknown>);
    static defaults: { options: Record<string, unknown>; [k: string]: unknown };
    on(event: 'ready' | 'change', callback: () => void): void;
    getValue(): unknown;
    setValue(value: unknown): void;
    validate(): JsonEditorError[];
    showValidationErrors(errors: JsonEditorError[]): void;
    getEditor(path: string): { setValue(v: unknown): void; getValue(): unknown } | null;
    destroy(): void;
  }
}
