/**
 * Prints the AKS response model of the saved specs (libs/catalog/data/aks-response-model.json):
 *
 *   node dist/libs/catalog/src/cli/response-model.js > libs/catalog/data/aks-response-model.json
 *   npx prettier --write libs/catalog/data/aks-response-model.json
 *
 * Specs: $CERULEAN_AZURE_SPECS, default /work/shared/azure-specs/specification.
 */
import { buildResponseModel } from '../response-model';

const specsRoot = process.env.CERULEAN_AZURE_SPECS ?? '/work/shared/azure-specs/specification';
process.stdout.write(`${JSON.stringify(buildResponseModel(specsRoot))}\n`);
