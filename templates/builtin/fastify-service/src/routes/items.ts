import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ItemChanges, ItemStore, NewItem } from '../store.js';

/**
 * An example resource with the usual five routes. Every input (path parameters, query string,
 * body) and every output is described by JSON Schema: Fastify validates inputs before the handler
 * runs (a bad request gets a 400 naming the field) and serializes outputs with the response
 * schema, which is faster than JSON.stringify and never leaks a field the schema does not list.
 */

export interface ItemRoutesOptions {
  store: ItemStore;
}

const itemSchema = {
  $id: 'Item',
  type: 'object',
  required: ['id', 'name', 'quantity', 'tags', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    quantity: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const name = { type: 'string', minLength: 1, maxLength: 200 } as const;
const quantity = { type: 'integer', minimum: 0, maximum: 1_000_000 } as const;
const tags = {
  type: 'array',
  maxItems: 20,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 50 },
} as const;

const newItemBody = {
  type: 'object',
  required: ['name', 'quantity'],
  additionalProperties: false,
  properties: { name, quantity, tags },
} as const;

const changesBody = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { name, quantity, tags },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    offset: { type: 'integer', minimum: 0, default: 0 },
  },
} as const;

const problem = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No item ${id}` });
}

export const itemRoutes: FastifyPluginAsync<ItemRoutesOptions> = async (app, { store }) => {
  app.addSchema(itemSchema);

  app.get<{ Querystring: { limit: number; offset: number } }>(
    '/',
    {
      schema: {
        querystring: listQuery,
        response: {
          200: {
            type: 'object',
            required: ['items', 'total', 'limit', 'offset'],
            properties: {
              items: { type: 'array', items: { $ref: 'Item#' } },
              total: { type: 'integer' },
              limit: { type: 'integer' },
              offset: { type: 'integer' },
            },
          },
        },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const { items, total } = await store.list({ limit, offset });
      return { items, total, limit, offset };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/:id',
    { schema: { params: idParams, response: { 200: { $ref: 'Item#' }, 404: problem } } },
    async (request, reply) => {
      const item = await store.get(request.params.id);
      return item ?? notFound(reply, request.params.id);
    },
  );

  app.post<{ Body: NewItem }>(
    '/',
    { schema: { body: newItemBody, response: { 201: { $ref: 'Item#' } } } },
    async (request, reply) => {
      const item = await store.create(request.body);
      return reply.code(201).header('location', `${request.url.replace(/\/$/, '')}/${item.id}`).send(item);
    },
  );

  app.patch<{ Params: { id: string }; Body: ItemChanges }>(
    '/:id',
    { schema: { params: idParams, body: changesBody, response: { 200: { $ref: 'Item#' }, 404: problem } } },
    async (request, reply) => {
      const item = await store.update(request.params.id, request.body);
      return item ?? notFound(reply, request.params.id);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/:id',
    { schema: { params: idParams, response: { 204: { type: 'null' }, 404: problem } } },
    async (request, reply) => {
      if (!(await store.delete(request.params.id))) return notFound(reply, request.params.id);
      return reply.code(204).send();
    },
  );
};
