#!/usr/bin/env node
// Runs the program bundled from its TypeScript sources, rebuilt when they change (see build.mjs).
import { programUrl } from './build.mjs';

await import(await programUrl());
