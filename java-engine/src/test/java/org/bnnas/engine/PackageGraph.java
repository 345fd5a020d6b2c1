// PackageGraph: which packages of a source tree name which others, read from the sources (imports
// and fully qualified names outside comments and strings), for the tests that keep dependencies one way.
package org.bnnas.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The packages of one source tree and, for each, the packages it names (its own tree's and others). */
public final class PackageGraph {
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    /** A qualified name: lower-case package segments, then a class name. */
    private static final Pattern QUALIFIED = Pattern.compile("\\b((?:[a-z]\\w*\\.)+)[A-Z]");
    private static final Pattern COMMENT_OR_STRING = Pattern.compile("//[^\\n]*|/\\*.*?\\*/|\"(?:\\\\.|[^\"\\\\])*\"", Pattern.DOTALL);

    private final Map<String, Set<String>> edges = new TreeMap<>();

    private PackageGraph() {}

    /** Reads every .java file under {@code sourceRoot}. */
    public static PackageGraph read(Path sourceRoot) {
        PackageGraph g = new PackageGraph();
        try (Stream<Path> files = Files.walk(sourceRoot)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String src = Files.readString(f);
                Matcher pm = PACKAGE.matcher(src);
                if (!pm.find()) throw new IllegalStateException(f + ": no package declaration");
                String pkg = pm.group(1);
                Set<String> out = g.edges.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = QUALIFIED.matcher(COMMENT_OR_STRING.matcher(src).replaceAll(" "));
                while (m.find()) {
                    String named = m.group(1).substring(0, m.group(1).length() - 1);
                    if (!named.equals(pkg)) out.add(named);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (g.edges.isEmpty()) throw new IllegalStateException(sourceRoot + ": no Java sources");
        return g;
    }

    public Set<String> packages() {
        return edges.keySet();
    }

    /** The packages of this tree that {@code pkg} names directly. */
    public Set<String> dependencies(String pkg) {
        Set<String> out = new TreeSet<>(edges.getOrDefault(pkg, Set.of()));
        out.retainAll(edges.keySet());
        return out;
    }

    /** Every package of the tree that names one starting with {@code prefix} (of this tree or not). */
    public List<String> packagesNaming(String prefix) {
        List<String> out = new ArrayList<>();
        edges.forEach((p, named) -> {
            if (named.stream().anyMatch(n -> n.startsWith(prefix))) out.add(p);
        });
        return out;
    }

    /**
     * The loops of the graph, each once, as "a -> b -> ... -> a" starting from its first package
     * in alphabetical order (for each edge that some path closes, the shortest such path); empty
     * when there is none.
     */
    public List<String> loops() {
        Set<String> out = new TreeSet<>();
        for (String a : edges.keySet()) {
            for (String b : dependencies(a)) {
                List<String> back = path(b, a);
                if (back == null) continue;
                List<String> loop = new ArrayList<>(List.of(a));
                loop.addAll(back.subList(0, back.size() - 1)); // a, b, ..., the package before a
                int first = loop.indexOf(loop.stream().min(String::compareTo).orElseThrow());
                List<String> rotated = new ArrayList<>(loop.subList(first, loop.size()));
                rotated.addAll(loop.subList(0, first));
                rotated.add(rotated.get(0));
                out.add(String.join(" -> ", rotated));
            }
        }
        return new ArrayList<>(out);
    }

    /** A path of packages from {@code from} to {@code to} (both included), or null. */
    private List<String> path(String from, String to) {
        Map<String, String> parent = new TreeMap<>();
        List<String> frontier = new ArrayList<>(List.of(from));
        parent.put(from, null);
        while (!frontier.isEmpty()) {
            List<String> next = new ArrayList<>();
            for (String p : frontier) {
                if (p.equals(to)) {
                    List<String> path = new ArrayList<>();
                    for (String q = p; q != null; q = parent.get(q)) path.add(0, q);
                    return path;
                }
                for (String n : dependencies(p)) {
                    if (!parent.containsKey(n)) {
                        parent.put(n, p);
                        next.add(n);
                    }
                }
            }
            frontier = next;
        }
        return null;
    }
}
