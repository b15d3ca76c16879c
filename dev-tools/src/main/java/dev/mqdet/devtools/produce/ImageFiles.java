package dev.mqdet.devtools.produce;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What {@code --images} names: files as given, the JPEG and PNG files of a folder, or those a glob matches
 * ({@code 'shots/*.jpg'}, {@code 'cams/**}{@code /*.png'}; quoted, so the shell leaves it alone), in name order.
 */
final class ImageFiles {

    private ImageFiles() {}

    static List<Path> expand(List<String> arguments) throws IOException {
        List<Path> files = new ArrayList<>();
        for (String argument : arguments) {
            if (isGlob(argument)) {
                files.addAll(glob(argument));
            } else if (Files.isDirectory(Path.of(argument))) {
                try (Stream<Path> listed = Files.list(Path.of(argument))) {
                    listed.filter(ImageFiles::isImageName).sorted().forEach(files::add);
                }
            } else {
                files.add(Path.of(argument)); // a missing or unreadable file is reported with the others
            }
        }
        return files;
    }

    private static boolean isGlob(String argument) {
        return argument.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    /** The files under the glob's fixed leading folders that match it as a whole. */
    private static List<Path> glob(String pattern) throws IOException {
        Path base = Path.of(pattern).isAbsolute() ? Path.of("/") : Path.of("");
        for (Path part : Path.of(pattern)) {
            if (isGlob(part.toString())) {
                break;
            }
            base = base.resolve(part);
        }
        Path root = base.toString().isEmpty() ? Path.of(".") : base;
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        Path finalBase = base;
        try (Stream<Path> walked = Files.walk(root)) {
            return walked.filter(Files::isRegularFile)
                    .filter(p -> matcher.matches(finalBase.toString().isEmpty() ? root.relativize(p) : p))
                    .sorted().toList();
        }
    }

    private static boolean isImageName(Path path) {
        return path.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png)");
    }
}
