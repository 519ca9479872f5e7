/*
 * Restore, act: the propagation of the restored mounts (mount-propagation.c),
 * for mount/mount-restore.c, which makes the mounts.
 */
#ifndef CRIU_MOUNT_PROPAGATION_H
#define CRIU_MOUNT_PROPAGATION_H

#include "mount/mount-restore.h"

/*
 * Before a clone is attached: private, or a slave of the host for a mount
 * that receives from the host and sends nothing back. 0 or -errno, printed.
 */
int mount_set_initial_propagation(struct rmount *m, int fd);
/* An external mount's clone: as above, and a second clone kept (group_fd)
 * when it was a peer of a host group, to rejoin it at the end. */
int mount_set_external_propagation(struct rmount *m);
/* Once every mount is attached: the peer groups and masters of the image,
 * then unbindable mounts. */
int mount_restore_propagation(struct mount_plan *p);
/* The last step: mounts that were peers of a host group join it again. */
int mount_rejoin_host_groups(struct mount_plan *p);

#endif
