// tegata/detail/inline.hpp - where the definitions of the *_inl.hpp headers are compiled.
//
// tegata is header-only: each header that has an *_inl.hpp beside it includes it at its end, and
// TEGATA_INLINE makes those definitions inline. A program that links tegata::compiled sees
// TEGATA_COMPILED_LIB instead: the headers then declare and do not define, TEGATA_INLINE is empty,
// and the definitions are compiled once, in that library (src/), rather than parsed and
// instantiated again in each of the program's translation units. See "Compile time" in
// benchmarks/README.md.
#pragma once

#if defined(TEGATA_COMPILED_LIB)
#define TEGATA_INLINE
#else
#define TEGATA_INLINE inline
#endif
