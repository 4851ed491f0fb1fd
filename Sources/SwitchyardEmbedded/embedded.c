#include "SwitchyardEmbedded.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

extern const unsigned char switchyard_cl100k_base_start[], switchyard_cl100k_base_end[];
extern const unsigned char switchyard_o200k_base_start[], switchyard_o200k_base_end[];
extern const unsigned char switchyard_prices_start[], switchyard_prices_end[];

const unsigned char *switchyard_embedded(SwitchyardEmbeddedFile file, size_t *size) {
    const unsigned char *start, *end;
    switch (file) {
    case SwitchyardEmbeddedCl100kBase: start = switchyard_cl100k_base_start; end = switchyard_cl100k_base_end; break;
    case SwitchyardEmbeddedO200kBase: start = switchyard_o200k_base_start; end = switchyard_o200k_base_end; break;
    default: start = switchyard_prices_start; end = switchyard_prices_end; break;
    }
    *size = (size_t)(end - start);
    return start;
}

void switchyard_embedded_release(SwitchyardEmbeddedFile file) {
    size_t size;
    const unsigned char *start = switchyard_embedded(file, &size);
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    // Only the pages wholly inside the file: those at its ends may hold other data.
    uintptr_t from = ((uintptr_t)start + page - 1) & ~(page - 1);
    uintptr_t to = ((uintptr_t)start + size) & ~(page - 1);
    if (to > from) (void)madvise((void *)from, to - from, MADV_DONTNEED);
}
