"""The warm compiler's Java source (``Server.java``), shipped in the runner's bundle (no image change).

A long-lived JVM running ``javax.tools.JavaCompiler``: it reads compile requests on stdin and answers
on stdout (both pipes held only by the runner), compiles sources it is handed **in memory** and
returns the class files' bytes; it never writes a file and never loads, let alone runs, a class it
compiled (``-proc:none``: no annotation processor, and no ``-Xplugin``). See ``javac`` for the wire
format and the trust boundary. Standard library only (this module is a string).
"""

SERVER_JAVA = r"""
import java.io.*;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.*;
import javax.tools.*;

public final class Server {
    static final class Source extends SimpleJavaFileObject {
        final String name, text;
        Source(String name, String text) {
            super(URI.create("hel:///" + name), Kind.SOURCE);
            this.name = name; this.text = text;
        }
        @Override public String getName() { return name; }
        @Override public CharSequence getCharContent(boolean ignore) { return text; }
    }
    static final class Output extends SimpleJavaFileObject {
        final String binary;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Output(String binary) {
            super(URI.create("hel:///" + binary.replace('.', '/') + ".class"), Kind.CLASS);
            this.binary = binary;
        }
        @Override public OutputStream openOutputStream() { return bytes; }
    }
    static String readString(DataInputStream in, int max) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > max) throw new IOException("bad length");
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
    static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }
    public static void main(String[] args) throws Exception {
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in)));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)));
        System.setOut(System.err);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StandardJavaFileManager std = javac.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8);
        out.writeInt(0x48454c31); out.flush();
        while (true) {
            int nfiles;
            try { nfiles = in.readInt(); } catch (EOFException e) { return; }
            if (nfiles < 0 || nfiles > 64) throw new IOException("bad request");
            String cp = readString(in, 1 << 16);
            List<JavaFileObject> sources = new ArrayList<>();
            for (int i = 0; i < nfiles; i++) {
                String name = readString(in, 1 << 12);
                sources.add(new Source(name, readString(in, 1 << 26)));
            }
            List<Output> outputs = new ArrayList<>();
            JavaFileManager fm = new ForwardingJavaFileManager<StandardJavaFileManager>(std) {
                @Override public JavaFileObject getJavaFileForOutput(Location loc, String cls, JavaFileObject.Kind kind, FileObject sibling) {
                    Output o = new Output(cls);
                    outputs.add(o);
                    return o;
                }
            };
            StringWriter diag = new StringWriter();
            int status;
            try {
                List<String> options = List.of("-proc:none", "-nowarn", "-implicit:none", "-cp", cp);
                status = javac.getTask(diag, fm, null, options, null, sources).call() ? 0 : 1;
            } catch (Throwable t) {
                status = 2;
                outputs.clear();
                diag = new StringWriter();
                diag.write(t.toString());
            }
            out.writeInt(status);
            writeBytes(out, diag.toString().getBytes(StandardCharsets.UTF_8));
            out.writeInt(status == 0 ? outputs.size() : 0);
            if (status == 0) {
                for (Output o : outputs) {
                    writeBytes(out, o.binary.getBytes(StandardCharsets.UTF_8));
                    writeBytes(out, o.bytes.toByteArray());
                }
            }
            out.flush();
        }
    }
}
"""
