# Generated-then-kept: the criu modules each unit test links (see the Makefile's unit rule).
# After moving code: make all && scripts/unit-deps.py (prints these lines); the linker checks them.
UNIT_DEPS_test-fdinfo-anon := proc/fdinfo-anon proc/proc-fdinfo proc/proc-text util/log util/util
UNIT_DEPS_test-file-kind := files/anon-dump files/anon-restore files/fd-dump files/file-kind files/inotify-dump files/inotify-restore files/memfd-file files/pipe-dump files/pipe-restore files/reg-dump files/reg-restore files/tty-dump files/tty-restore image/image image/image-set image/image-types mem/memfd-dump mem/page-restore mem/pagemap-image mem/shmem-dump mem/shmem-restore net/inet-dump net/inet-restore net/net-lock net/sk-diag net/sk-family net/sockopt net/sockopt-check net/tcp-dump net/tcp-restore net/unix-dump net/unix-restore proc/fdinfo-anon proc/mountinfo proc/proc-fdinfo proc/proc-text ptrace/inject ptrace/seize task/rtree-util util/hashmap util/kerndat util/log util/util
UNIT_DEPS_test-files-dump := files/anon-dump files/anon-restore files/fd-dump files/file-kind files/files-dump files/inotify-dump files/inotify-restore files/memfd-file files/pipe-dump files/pipe-restore files/reg-dump files/reg-restore files/tty-dump files/tty-restore image/image image/image-set image/image-types mem/memfd-dump mem/page-restore mem/pagemap-image mem/shmem-dump mem/shmem-restore net/inet-dump net/inet-restore net/net-lock net/sk-diag net/sk-family net/sockopt net/sockopt-check net/tcp-dump net/tcp-restore net/unix-dump net/unix-restore proc/fdinfo-anon proc/mountinfo proc/proc-fdinfo proc/proc-text ptrace/inject ptrace/seize task/rtree-util util/hashmap util/kerndat util/log util/util
UNIT_DEPS_test-hashmap := util/hashmap util/log util/util
UNIT_DEPS_test-image := image/image image/image-types show util/log util/util
UNIT_DEPS_test-kerndat := check util/kerndat util/log
UNIT_DEPS_test-mm-dump := files/anon-dump files/anon-restore files/fd-dump files/file-kind files/files-dump files/inotify-dump files/inotify-restore files/memfd-file files/pipe-dump files/pipe-restore files/reg-dump files/reg-restore files/tty-dump files/tty-restore image/image image/image-set image/image-types mem/memfd-dump mem/mm-dump mem/page-copy mem/page-release mem/page-restore mem/pagemap-image mem/shmem-dump mem/shmem-restore mem/vma-dump net/inet-dump net/inet-restore net/net-lock net/sk-diag net/sk-family net/sockopt net/sockopt-check net/tcp-dump net/tcp-restore net/unix-dump net/unix-restore proc/fdinfo-anon proc/mountinfo proc/proc-fdinfo proc/proc-maps proc/proc-status proc/proc-text ptrace/inject ptrace/seize task/rtree-util task/task-stat util/hashmap util/kerndat util/log util/util
UNIT_DEPS_test-mount-plan := image/image image/image-types mount/fstype mount/mount-image mount/mount-plan options util/hashmap util/log util/util
UNIT_DEPS_test-mount-tree := mount/fstype mount/mount-external mount/mount-tree options proc/mountinfo proc/proc-text util/hashmap util/log util/util
UNIT_DEPS_test-mountinfo := proc/mountinfo proc/proc-text util/log util/util
UNIT_DEPS_test-options := options util/log util/util
UNIT_DEPS_test-page-release := mem/page-release ptrace/inject ptrace/seize util/hashmap util/kerndat util/log util/util
UNIT_DEPS_test-pagemap-image := mem/pagemap-image util/log
UNIT_DEPS_test-proc-fdinfo := proc/proc-fdinfo proc/proc-text util/log util/util
UNIT_DEPS_test-proc-images := image/image image/image-types show util/log util/util
UNIT_DEPS_test-proc-limits := proc/proc-limits proc/proc-text util/log util/util
UNIT_DEPS_test-proc-maps := proc/proc-maps proc/proc-text util/log util/util
UNIT_DEPS_test-proc-status := proc/proc-status proc/proc-text util/log util/util
UNIT_DEPS_test-proc-text := proc/fdinfo-anon proc/mountinfo proc/proc-fdinfo proc/proc-limits proc/proc-maps proc/proc-status proc/proc-text proc/proc-timens proc/proc-timers util/log util/util
UNIT_DEPS_test-proc-timens := proc/proc-text proc/proc-timens util/log util/util
UNIT_DEPS_test-proc-timers := proc/proc-text proc/proc-timers util/log util/util
UNIT_DEPS_test-restore-plan := restore-plan util/log
UNIT_DEPS_test-seize := ptrace/inject ptrace/seize util/hashmap util/kerndat util/log util/util
UNIT_DEPS_test-sockopt := net/sockopt util/kerndat util/log util/util
UNIT_DEPS_test-timens-restore := image/image image/image-set image/image-types proc/proc-text proc/proc-timens task/timens-dump task/timens-restore util/hashmap util/log util/util
UNIT_DEPS_test-tmpfs := mount/tmpfs-dump mount/tmpfs-restore util/hashmap util/kerndat util/log util/util
