#ifndef SWITCHYARD_TASK_ROOM_H
#define SWITCHYARD_TASK_ROOM_H

#include <stddef.h>

/// Takes `size` bytes from the current Swift task's allocator and gives them back at once. The
/// allocator keeps the slab it made for them and lays the task's later frames out in it, one after
/// another. Call it only from code running on a task, before the task's first frame is made.
void switchyard_task_reserve(size_t size);

#endif
