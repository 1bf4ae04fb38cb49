"""Budget-circular exports (instruction 2024/123 annex 2; 2025/180 annex 4): per ES/GHT, per region
and national, CSV and XLSX; every total is the sum of the rows above it."""
