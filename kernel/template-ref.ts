import { z } from 'zod';

/**
 * How a template is named and versioned: the templates domain (its manifests and events) and the
 * projects domain (a project records the template it was generated from) share these values.
 */

/** Template names become stream ids (`template-<name>`), URL segments and MCP arguments. */
export const TEMPLATE_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const templateNameSchema = z
  .string()
  .regex(TEMPLATE_NAME_RE, 'must be 1-63 characters of a-z, 0-9 or "-", starting with a letter or digit');

/** Semantic version, as template authors write them: 1.2.3, 1.2.3-beta.1, 1.2.3+build. */
export const templateVersionSchema = z
  .string()
  .regex(
    /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/,
    'must be a semantic version such as 1.0.0 or 2.1.0-beta.1',
  );
