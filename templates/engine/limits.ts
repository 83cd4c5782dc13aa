/**
 * Size limits for a template. A template is read whole into memory and rendered there, so a source
 * that ships a huge file (or thousands of them) must be refused before it exhausts the gateway.
 */
export interface TemplateLimits {
  /** Files in one template, after exclusions. */
  maxFiles: number;
  /** Bytes of any one file. */
  maxFileBytes: number;
  /** Bytes of all files together. */
  maxTotalBytes: number;
}

/** Generous for real project skeletons, small enough to hold a few dozen templates in memory. */
export const DEFAULT_LIMITS: Readonly<TemplateLimits> = Object.freeze({
  maxFiles: 2000,
  maxFileBytes: 2 * 1024 * 1024,
  maxTotalBytes: 50 * 1024 * 1024,
});
