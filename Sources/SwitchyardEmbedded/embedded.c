#include "SwitchyardEmbedded.h"

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
