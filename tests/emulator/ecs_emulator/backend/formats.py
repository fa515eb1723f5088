"""Disk image formats: detection by magic bytes (ImportImage) and synthesis of exported objects (ExportImage)."""
import struct

IMPORT_FORMATS = ("RAW", "VHD", "QCOW2", "VMDK")
EXPORT_FORMATS = ("raw", "vhd", "qcow2", "vmdk", "vdi")

_VDI_TEXT = b"<<< Oracle VM VirtualBox Disk Image >>>\n"
_VDI_SIGNATURE = 0xBEDA107F


def detect_format(data):
    """Format a disk image body really has: 'qcow2', 'vmdk', 'vdi', 'vhd', 'raw' or None (unrecognised)."""
    if not data:
        return None
    if data[:4] == b"QFI\xfb":
        return "qcow2"
    if data[:4] == b"KDMV" or data[:21] == b"# Disk DescriptorFile":
        return "vmdk"
    if len(data) >= 0x44 and struct.unpack("<I", data[0x40:0x44])[0] == _VDI_SIGNATURE:
        return "vdi"
    if data[:8] == b"conectix" or (len(data) >= 512 and data[-512:-504] == b"conectix"):
        return "vhd"
    if len(data) >= 512 and data[510:512] == b"\x55\xaa":
        return "raw"
    return None


def synthesize(fmt, declared_size, body_size=4096):
    """A small body with ``fmt``'s real magic bytes (uses the OSS store's synthesiser; VDI done here)."""
    fmt = fmt.lower()
    if fmt == "vdi":
        buf = bytearray(max(1024, body_size))
        buf[0:len(_VDI_TEXT)] = _VDI_TEXT
        buf[0x40:0x44] = struct.pack("<I", _VDI_SIGNATURE)
        buf[0x44:0x48] = struct.pack("<I", 0x00010001)
        buf[0x170:0x178] = struct.pack("<Q", int(declared_size))
        return bytes(buf)
    from ..oss_store import synthesize_disk_image
    return synthesize_disk_image(fmt, declared_size, body_size)
