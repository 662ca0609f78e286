/**
 * The kubelet's HTTPS port on a Cerulean node. Not kubelet's 10250: the agent's platform API holds that one. The Node
 * object says this port (status.daemonEndpoints.kubeletEndpoint.Port), which is where the API server connects.
 */
export const KUBELET_SERVER_PORT = 10260;
