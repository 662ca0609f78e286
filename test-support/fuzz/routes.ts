import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';

/** One route the API serves, read from Nest's own metadata. */
export interface ServedRoute {
  method: string;
  /** Nest's path, `:params` included, without the leading '/'. */
  template: string;
  controller: string;
  handler: string;
  /** The api-versions the route accepts (its ArmApiVersions set), when it declares one. */
  apiVersions?: string[];
}

const API_VERSIONS = 'cerulean:api-versions';

type Ctor = abstract new (...args: never[]) => unknown;
const asArray = (v: unknown): string[] => (v === undefined ? [''] : Array.isArray(v) ? (v as string[]) : [v as string]);
const join = (...parts: string[]): string =>
  parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');

/** Every controller of a module and of the modules it imports (static imports; dynamic modules hold none here). */
export function controllersOf(module: Ctor, seen = new Set<unknown>()): Ctor[] {
  if (seen.has(module)) return [];
  seen.add(module);
  const own = (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) as Ctor[] | undefined) ?? [];
  const imports = (Reflect.getMetadata(MODULE_METADATA.IMPORTS, module) as unknown[] | undefined) ?? [];
  return [...own, ...imports.flatMap((m) => (typeof m === 'function' ? controllersOf(m as Ctor, seen) : []))];
}

/** The route table of the given controllers, one row per (method, path). */
export function servedRoutes(controllers: Ctor[]): ServedRoute[] {
  const out: ServedRoute[] = [];
  for (const controller of controllers) {
    const prefixes = asArray(Reflect.getMetadata(PATH_METADATA, controller));
    const classVersions = Reflect.getMetadata(API_VERSIONS, controller) as { set: { versions: Set<string> } } | undefined;
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = proto[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
      if (method === undefined) continue;
      const versions = (Reflect.getMetadata(API_VERSIONS, fn) as typeof classVersions) ?? classVersions;
      for (const prefix of prefixes) {
        for (const path of asArray(Reflect.getMetadata(PATH_METADATA, fn))) {
          out.push({
            method: RequestMethod[method],
            template: join(prefix, path),
            controller: controller.name,
            handler: name,
            ...(versions ? { apiVersions: [...versions.set.versions] } : {}),
          });
        }
      }
    }
  }
  return out;
}

/** The `:param` names of a route template, in order. */
export const paramsOf = (template: string): string[] => [...template.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
