#!/usr/bin/python3
# Regenerates the small fixture files the io tests read, with NumPy and PyTorch
# (Debian's python3-numpy / python3-torch), so the readers are checked against
# files written by the reference implementations, not by our own writers.
#   /usr/bin/python3 tests/io/data/make_fixtures.py
import io
import os
import struct

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
os.chdir(here)

a = (np.arange(6, dtype=np.float32) * 0.5 - 1.0).reshape(2, 3)       # [[-1,-0.5,0],[0.5,1,1.5]]
np.save("f32_2x3_v1.npy", a)
with open("f16_4_v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.array([1.0, -2.0, 0.5, 65504.0], dtype=np.float16), version=(2, 0))
with open("i64_scalar_v3.npy", "wb") as f:
    np.lib.format.write_array(f, np.array(-7, dtype=np.int64), version=(3, 0))
np.save("bool_3.npy", np.array([True, False, True]))
np.save("u8_2x2.npy", np.array([[0, 255], [7, 128]], dtype=np.uint8))
np.save("big_endian.npy", np.arange(3, dtype=">f4"))
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))

b = np.arange(10, dtype=np.int32) - 5
c = np.linspace(0, 1, 5).astype(np.float64)
np.savez("stored.npz", a=a, b=b, c=c)
np.savez_compressed("deflated.npz", a=a, b=b, zeros=np.zeros(1000, dtype=np.float32))

torch.save({"w": torch.arange(4, dtype=torch.float32)}, "torch_zip.pt")
torch.save({"w": torch.arange(4, dtype=torch.float32)}, "torch_legacy.pt",
           _use_new_zipfile_serialization=False)
