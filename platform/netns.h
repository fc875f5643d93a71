/* The network-namespace backstop (JH_LAYER_NETNS): a network namespace of the
 * sandbox's own holding only its loopback, up. The sentry performs every
 * connect, bind and send on the task's own socket, and a socket lives in the
 * namespace it was made in, so in an empty namespace nothing outside the
 * sandbox is reachable, even through the sentry: the layer is entered only
 * when the run's network policy grants no destination (see
 * jh_net_policy_needs_host_netns()). It then turns the "no network" policy
 * into a kernel fact, and 127.0.0.1 becomes the sandbox's own loopback
 * (servers and clients inside the sandbox can talk to each other) instead of
 * the host's, which the policy refuses. */
#ifndef JH_PLATFORM_NETNS_H
#define JH_PLATFORM_NETNS_H

/* In the first task (or a probe child), after the user namespace: unshare(2)
 * a network namespace and bring its "lo" up. Returns 0 or -errno (the host
 * refuses namespaces, no user namespace when not root, the ioctl refused).
 * Async-signal-safe: no allocation. */
int jh_netns_enter(void);

#endif
