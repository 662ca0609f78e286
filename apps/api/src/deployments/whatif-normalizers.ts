import { AKS_WHAT_IF_RULES } from '@cerulean/catalog';
import { ResourceNormalizer } from '@cerulean/templates';

/** What-if normalizers of the hosted types: AKS's own rules (libs/catalog aks-resource-fields). */
export const WHAT_IF_NORMALIZERS: Record<string, ResourceNormalizer> = AKS_WHAT_IF_RULES;
