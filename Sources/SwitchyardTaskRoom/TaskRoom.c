#include "SwitchyardTaskRoom.h"

// The Swift runtime's task allocator (swift/Runtime/Concurrency.h), in Swift's calling convention:
// the stack-ordered allocator every async frame of a task is made with.
__attribute__((swiftcall)) void *swift_task_alloc(size_t size);
__attribute__((swiftcall)) void swift_task_dealloc(void *pointer);

void switchyard_task_reserve(size_t size) {
    swift_task_dealloc(swift_task_alloc(size));
}
