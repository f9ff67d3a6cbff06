using System.Buffers.Binary;
using System.IO.Compression;

namespace Chat.Browser.Tests.Infrastructure;

/// <summary>Builds small, valid PNG files in memory (no image library needed).</summary>
public static class TestImages
{
    /// <summary>A width×height RGB PNG with a colourful diagonal gradient.</summary>
    public static byte[] GradientPng(int width, int height)
    {
        var raw = new byte[height * (1 + width * 3)];
        int i = 0;
        for (int y = 0; y < height; y++)
        {
            raw[i++] = 0; // filter: none
            for (int x = 0; x < width; x++)
            {
                raw[i++] = (byte)(40 + 200 * x / Math.Max(1, width - 1));
                raw[i++] = (byte)(90 + 120 * y / Math.Max(1, height - 1));
                raw[i++] = (byte)(230 - 150 * (x + y) / Math.Max(1, width + height - 2));
            }
        }

        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type: RGB
        WriteChunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zlib = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(raw);
            WriteChunk(ms, "IDAT", z.ToArray());
        }
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        uint crc = Crc32(typeBytes, 0xFFFFFFFFu);
        crc = Crc32(data, crc) ^ 0xFFFFFFFFu;
        Span<byte> c = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, crc);
        s.Write(c);
    }

    private static uint Crc32(byte[] data, uint crc)
    {
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc;
    }
}
