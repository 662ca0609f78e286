/**
 * The node image's program, in the role its container was made for (CERULEAN_ROLE): a node (the default), a cluster's
 * control plane, or a LoadBalancer Service's load balancer. Each role's code is loaded only when that role runs (the
 * bundle evaluates a module when it is first required): a control plane's supervisor would otherwise load the kubelet,
 * gRPC, kube-proxy and the DNS server before it starts etcd and the API server, on the path of every cluster create
 * (about 120 ms of a 2-core machine's time, and 160 ms of CPU).
 */
import { LOAD_ONLY_ENV } from '../../../libs/node-provider/src/code-cache';

const role = process.env.CERULEAN_ROLE?.trim();
// Every role's modules loaded and none run: how the bundle's code cache is made (libs/node-provider/src/cli/app-loader.ts).
if (process.env[LOAD_ONLY_ENV]) void Promise.all([import('./control-plane-role'), import('./lb/load-balancer'), import('./node-role')]);
else if (role === 'control-plane') void import('./control-plane-role').then((m) => m.runControlPlane());
else if (role === 'load-balancer') void import('./lb/load-balancer').then((m) => m.runLoadBalancer());
else void import('./node-role').then((m) => m.runNode());
