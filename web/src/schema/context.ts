import type { InjectionKey } from 'vue'
import type { Schema } from './pointer'

export interface FormContext {
  /** The document being edited (a reactive object the form writes into). */
  root: () => any
  schema: () => Schema
  readonly: () => boolean
  /** The message to show at a pointer, if any. */
  errorAt: (pointer: string) => string | undefined
  /** A field was changed or left: its problems may be shown from now on. */
  touch: (pointer: string) => void
  changed: (pointer: string) => void
  /** Where the form is (for unique element ids). */
  idPrefix: string
}

export const formKey: InjectionKey<FormContext> = Symbol('schema-form')
