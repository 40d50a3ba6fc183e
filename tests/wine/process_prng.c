/*
 * A stand-in for Windows's bcryptprimitives.dll, for the Wine smoke test only (never
 * shipped). Rust's standard library asks Windows 10 / Server 2016 and later for ProcessPrng;
 * Debian's Wine 8 has no bcryptprimitives.dll. This one answers it with RtlGenRandom
 * (advapi32's SystemFunction036), which Wine has.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
