// MSBuild inline task (RoslynCodeTaskFactory): marks libLibTorchSharp.so's need for GLIBCXX_3.4.32
// as weak when the host's libstdc++ lacks that version (Debian 12, Ubuntu 22.04). The only symbol
// with that version is _ZSt21ios_base_library_initv, which nothing relocates against, so the
// loader may skip the version check safely (see shared/notes/torchsharp.md).
using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxNeed : Task
{
    private const string Version = "GLIBCXX_3.4.32";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required]
    public string Library { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(Library) || HostHasVersion())
            return true;
        var bytes = File.ReadAllBytes(Library);
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[4] != 2)
        {
            Log.LogError($"{Library}: not a 64-bit ELF file");
            return false;
        }
        long shoff = BitConverter.ToInt64(bytes, 0x28);
        int shentsize = BitConverter.ToUInt16(bytes, 0x3A), shnum = BitConverter.ToUInt16(bytes, 0x3C);
        var changed = false;
        for (var s = 0; s < shnum; s++)
        {
            var sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(bytes, (int)sh + 4) != ShtGnuVerneed) continue;
            var offset = BitConverter.ToInt64(bytes, (int)sh + 0x18);
            var link = BitConverter.ToInt32(bytes, (int)sh + 0x28);
            var count = BitConverter.ToInt32(bytes, (int)sh + 0x2C);
            var strtab = BitConverter.ToInt64(bytes, (int)(shoff + (long)link * shentsize) + 0x18);
            var need = offset;
            for (var n = 0; n < count; n++)
            {
                var aux = need + BitConverter.ToUInt32(bytes, (int)need + 8);
                for (var a = 0; a < BitConverter.ToUInt16(bytes, (int)need + 2); a++)
                {
                    var name = CString(bytes, strtab + BitConverter.ToUInt32(bytes, (int)aux + 8));
                    var flagsAt = (int)aux + 4;
                    var flags = BitConverter.ToUInt16(bytes, flagsAt);
                    if (name == Version && (flags & VerFlgWeak) == 0)
                    {
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(bytes, flagsAt);
                        changed = true;
                    }
                    aux += BitConverter.ToUInt32(bytes, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(bytes, (int)need + 12);
            }
        }
        if (changed)
        {
            // Keep the timestamp so incremental copies still see the file as up to date.
            var stamp = File.GetLastWriteTimeUtc(Library);
            File.WriteAllBytes(Library, bytes);
            File.SetLastWriteTimeUtc(Library, stamp);
            Log.LogMessage(MessageImportance.High, $"{Library}: {Version} need marked weak (host libstdc++ lacks it)");
        }
        return true;
    }

    private static bool HostHasVersion()
    {
        var candidates = new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib" }
            .Select(d => Path.Combine(d, "libstdc++.so.6")).Where(File.Exists).ToList();
        return candidates.Count > 0 && candidates.Any(f => Encoding.ASCII.GetString(File.ReadAllBytes(f)).Contains(Version));
    }

    private static string CString(byte[] bytes, long at)
    {
        var end = (int)at;
        while (bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)at, end - (int)at);
    }
}
