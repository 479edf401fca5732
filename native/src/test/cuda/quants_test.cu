// Host-side check of the CUDA block decoders in quants.cuh against llama.cpp's reference values
// (fixtures/quants/NAME.blocks.bin -> NAME.f32.bin, bit for bit). Needs nvcc, no GPU.
// Usage: quants_test <fixtures/quants dir>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include "quants.cuh"

static bool read_file(const std::string& path, std::vector<unsigned char>& out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    unsigned char buffer[65536];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.insert(out.end(), buffer, buffer + n);
    std::fclose(f);
    return true;
}

template <typename Q>
static int check(const std::string& dir, const char* name) {
    std::vector<unsigned char> blocks, values;
    if (!read_file(dir + "/" + name + ".blocks.bin", blocks) || !read_file(dir + "/" + name + ".f32.bin", values)) {
        std::printf("FAIL %-7s fixture files missing in %s\n", name, dir.c_str());
        return 1;
    }
    size_t count = blocks.size() / Q::BYTES;
    if (count * Q::BYTES != blocks.size() || values.size() != count * Q::VALUES * 4) {
        std::printf("FAIL %-7s fixture sizes do not match the block layout\n", name);
        return 1;
    }
    size_t bad = 0;
    for (size_t b = 0; b < count; b++) {
        for (int i = 0; i < Q::VALUES; i++) {
            float got = Q::value(blocks.data() + b * Q::BYTES, i);
            unsigned int want_bits, got_bits;
            std::memcpy(&want_bits, values.data() + (b * Q::VALUES + i) * 4, 4);
            std::memcpy(&got_bits, &got, 4);
            if (want_bits != got_bits && bad++ < 3) {
                float want;
                std::memcpy(&want, &want_bits, 4);
                std::printf("     %-7s block %zu value %d: expected %g, got %g\n", name, b, i, want, got);
            }
        }
    }
    std::printf("%s %-7s %zu blocks\n", bad == 0 ? "ok  " : "FAIL", name, count);
    return bad == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::printf("usage: quants_test <fixtures/quants dir>\n");
        return 2;
    }
    std::string dir = argv[1];
    int failures = 0;
    failures += check<ferry::Q4_0>(dir, "Q4_0");
    failures += check<ferry::Q4_1>(dir, "Q4_1");
    failures += check<ferry::Q5_0>(dir, "Q5_0");
    failures += check<ferry::Q5_1>(dir, "Q5_1");
    failures += check<ferry::Q8_0>(dir, "Q8_0");
    failures += check<ferry::Q2_K>(dir, "Q2_K");
    failures += check<ferry::Q3_K>(dir, "Q3_K");
    failures += check<ferry::Q4_K>(dir, "Q4_K");
    failures += check<ferry::Q5_K>(dir, "Q5_K");
    failures += check<ferry::Q6_K>(dir, "Q6_K");
    failures += check<ferry::IQ4_NL>(dir, "IQ4_NL");
    failures += check<ferry::IQ4_XS>(dir, "IQ4_XS");
    failures += check<ferry::MXFP4>(dir, "MXFP4");
    std::printf("%d of 13 formats failed\n", failures);
    return failures == 0 ? 0 : 1;
}
