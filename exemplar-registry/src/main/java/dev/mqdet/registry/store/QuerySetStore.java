package dev.mqdet.registry.store;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.InlineImage;
import dev.mqdet.registry.config.Limits;
import dev.mqdet.registry.store.TopicWriter.Write;
import dev.mqdet.registry.validation.CategoryValidator.ValidExemplar;
import dev.mqdet.registry.validation.FieldError;
import dev.mqdet.registry.validation.RefusedException;
import dev.mqdet.registry.view.QuerySetView;
import dev.mqdet.topics.Keys;
import dev.mqdet.topics.QueryLimits;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every change to query sets: reads the current state from the {@link QuerySetView}, checks the rules that depend on
 * it, writes the new records through the {@link TopicWriter} and applies the acknowledged records to the view before
 * returning, so a read that follows a write sees it.
 *
 * <p>Changes are serialised by one lock around read-check-write-apply. A per-query-set lock would not buy parallel
 * writes: one producer runs one transaction at a time. Everything slow and stateless (decoding images) happens
 * before the lock, in {@code CategoryValidator}; under the lock there is only bookkeeping and the Kafka round trip.
 *
 * <p>A query set has no record of its own: it exists while it has at least one category. Creating one therefore
 * needs its first categories, renaming one re-keys all its categories and tombstones the old keys in one
 * transaction, and deleting one tombstones all its categories.
 */
public final class QuerySetStore {

    /** A category to write, after validation. */
    public record CategorySpec(String categoryId, String label, List<ValidExemplar> exemplars, Float scoreThreshold) {
        public CategorySpec(String categoryId, String label, List<ValidExemplar> exemplars) {
            this(categoryId, label, exemplars, null);
        }
    }

    private final QuerySetView view;
    private final TopicWriter writer;
    private final Limits limits;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Object writeLock = new Object();

    public QuerySetStore(QuerySetView view, TopicWriter writer, Limits limits, Clock clock) {
        this.view = view;
        this.writer = writer;
        this.limits = limits;
        this.clock = clock;
    }

    public QuerySetView view() {
        return view;
    }

    /**
     * Creates or replaces a category. With {@code createOnly} an existing category is a 412 (HTTP If-None-Match: *).
     */
    public ExemplarQuery putCategory(String querySetId, CategorySpec spec, boolean createOnly, String by) {
        synchronized (writeLock) {
            boolean exists = view.category(querySetId, spec.categoryId()).isPresent();
            if (exists && createOnly) {
                throw RefusedException.preconditionFailed("category " + querySetId + "/" + spec.categoryId() + " already exists");
            }
            if (!exists) {
                requireRoomForCategories(querySetId, 1);
            }
            // negatives are managed on their own (feedback): replacing a category keeps them
            List<Exemplar> negatives = exists ? copy(view.category(querySetId, spec.categoryId()).orElseThrow().getNegatives()) : List.of();
            ExemplarQuery record = build(querySetId, spec.categoryId(), spec.label(), exemplars(spec.exemplars(), Set.of()), negatives, spec.scoreThreshold(), by);
            write(List.of(record));
            return record;
        }
    }

    /** Creates a query set with its first categories; 409 if it already has categories. */
    public List<ExemplarQuery> createQuerySet(String querySetId, List<CategorySpec> categories, String by) {
        if (categories.isEmpty()) {
            throw RefusedException.invalid("categories", "a query set exists while it has a category: give at least one");
        }
        Set<String> ids = new HashSet<>();
        List<FieldError> duplicates = new ArrayList<>();
        for (int i = 0; i < categories.size(); i++) {
            if (!ids.add(categories.get(i).categoryId())) {
                duplicates.add(new FieldError("categories[" + i + "].categoryId", "'" + categories.get(i).categoryId() + "' is used twice"));
            }
        }
        if (!duplicates.isEmpty()) {
            throw RefusedException.invalid(duplicates);
        }
        synchronized (writeLock) {
            if (!view.querySet(querySetId).isEmpty()) {
                throw RefusedException.conflict("query set " + querySetId + " already exists");
            }
            requireRoomForCategories(querySetId, categories.size());
            List<ExemplarQuery> records = new ArrayList<>();
            for (CategorySpec c : categories) {
                records.add(build(querySetId, c.categoryId(), c.label(), exemplars(c.exemplars(), Set.of()), List.of(), c.scoreThreshold(), by));
            }
            write(records);
            return records;
        }
    }

    /** Changes the label; null makes the category vision-only, allowed only when it has exemplars. */
    public ExemplarQuery setLabel(String querySetId, String categoryId, String label, String by) {
        synchronized (writeLock) {
            ExemplarQuery old = existing(querySetId, categoryId);
            if (label == null && old.getExemplars().isEmpty()) {
                throw RefusedException.invalid("label", "the category has no exemplars, so it needs a label");
            }
            ExemplarQuery record = build(querySetId, categoryId, label, copy(old.getExemplars()), copy(old.getNegatives()), old.getScoreThreshold(), by);
            write(List.of(record));
            return record;
        }
    }

    /** Sets the category's own score threshold (validated by the caller); null goes back to the pipeline's default. */
    public ExemplarQuery setScoreThreshold(String querySetId, String categoryId, Float scoreThreshold, String by) {
        synchronized (writeLock) {
            ExemplarQuery old = existing(querySetId, categoryId);
            ExemplarQuery record = build(querySetId, categoryId, old.getLabel(), copy(old.getExemplars()), copy(old.getNegatives()), scoreThreshold, by);
            write(List.of(record));
            return record;
        }
    }

    /** Adds exemplars to an existing category; an exemplar id that is already there is a 409. */
    public ExemplarQuery addExemplars(String querySetId, String categoryId, List<ValidExemplar> added, String by) {
        synchronized (writeLock) {
            ExemplarQuery old = existing(querySetId, categoryId);
            List<Exemplar> all = appended(old, old.getExemplars(), added, limits.maxExemplarsPerCategory(), "exemplars");
            ExemplarQuery record = build(querySetId, categoryId, old.getLabel(), all, copy(old.getNegatives()), old.getScoreThreshold(), by);
            write(List.of(record));
            return record;
        }
    }

    /**
     * Adds negative exemplars (regions that are NOT this category) to an existing category: at most
     * {@link QueryLimits#MAX_NEGATIVES_PER_CATEGORY}; an id already used by an exemplar of the category is a 409.
     */
    public ExemplarQuery addNegatives(String querySetId, String categoryId, List<ValidExemplar> added, String by) {
        synchronized (writeLock) {
            ExemplarQuery old = existing(querySetId, categoryId);
            List<Exemplar> all = appended(old, old.getNegatives(), added, QueryLimits.MAX_NEGATIVES_PER_CATEGORY, "negatives");
            ExemplarQuery record = build(querySetId, categoryId, old.getLabel(), copy(old.getExemplars()), all, old.getScoreThreshold(), by);
            write(List.of(record));
            return record;
        }
    }

    /** {@code list} (the category's exemplars or its negatives) with {@code added} after it, within {@code limit}. */
    private List<Exemplar> appended(ExemplarQuery old, List<Exemplar> list, List<ValidExemplar> added, int limit, String field) {
        if (list.size() + added.size() > limit) {
            throw RefusedException.invalid(field, "the category has " + list.size() + " " + field + "; adding " + added.size()
                    + " would exceed the limit of " + limit);
        }
        Set<String> taken = new HashSet<>();
        old.getExemplars().forEach(e -> taken.add(e.getExemplarId()));
        old.getNegatives().forEach(e -> taken.add(e.getExemplarId()));
        for (ValidExemplar e : added) {
            if (e.exemplarId() != null && taken.contains(e.exemplarId())) {
                throw RefusedException.conflict("exemplar " + e.exemplarId() + " already exists in " + old.getQuerySetId() + "/" + old.getCategoryId());
            }
        }
        List<Exemplar> all = copy(list);
        all.addAll(exemplars(added, taken));
        return all;
    }

    /** Removes one negative exemplar. */
    public ExemplarQuery removeNegative(String querySetId, String categoryId, String exemplarId, String by) {
        synchronized (writeLock) {
            ExemplarQuery old = existing(querySetId, categoryId);
            List<Exemplar> rest = copy(old.getNegatives());
            if (!rest.removeIf(e -> e.getExemplarId().equals(exemplarId))) {
                throw RefusedException.notFound("negative exemplar " + exemplarId + " is not in " + querySetId + "/" + categoryId);
            }
            ExemplarQuery record = build(querySetId, categoryId, old.getLabel(), copy(old.getExemplars()), rest, old.getScoreThreshold(), by);
            write(List.of(record));
            return record;
        }
    }

    /** Removes one exemplar; removing the last one of a category without label is refused (delete the category). */
    public ExemplarQuery removeExemplar(String querySetId, String categoryId, String exemplarId, String by) {
        synchronized (writeLock) {
            ExemplarQuery old = existing(querySetId, categoryId);
            List<Exemplar> rest = new ArrayList<>();
            boolean found = false;
            for (Exemplar e : copy(old.getExemplars())) {
                if (e.getExemplarId().equals(exemplarId)) {
                    found = true;
                } else {
                    rest.add(e);
                }
            }
            if (!found) {
                throw RefusedException.notFound("exemplar " + exemplarId + " is not in " + querySetId + "/" + categoryId);
            }
            if (rest.isEmpty() && old.getLabel() == null) {
                throw RefusedException.conflict("that is the last exemplar of a category without label: delete the category instead");
            }
            ExemplarQuery record = build(querySetId, categoryId, old.getLabel(), rest, copy(old.getNegatives()), old.getScoreThreshold(), by);
            write(List.of(record));
            return record;
        }
    }

    /** Deletes a category: a tombstone. */
    public void deleteCategory(String querySetId, String categoryId) {
        synchronized (writeLock) {
            existing(querySetId, categoryId);
            commit(List.of(new Write(Keys.query(querySetId, categoryId), null)));
        }
    }

    /** Deletes a query set: a tombstone for each of its categories, in one transaction. */
    public int deleteQuerySet(String querySetId) {
        synchronized (writeLock) {
            Map<String, ExemplarQuery> set = existingSet(querySetId);
            List<Write> writes = new ArrayList<>();
            for (String categoryId : set.keySet()) {
                writes.add(new Write(Keys.query(querySetId, categoryId), null));
            }
            commit(writes);
            return writes.size();
        }
    }

    /**
     * Renames a query set: writes each category under the new id and tombstones the old key, all in one transaction,
     * so a read_committed consumer sees either the old query set or the new one. The new id must be unused.
     */
    public List<ExemplarQuery> renameQuerySet(String querySetId, String newQuerySetId, String by) {
        if (querySetId.equals(newQuerySetId)) {
            throw RefusedException.invalid("newId", "is the query set's current id");
        }
        synchronized (writeLock) {
            Map<String, ExemplarQuery> set = existingSet(querySetId);
            if (!view.querySet(newQuerySetId).isEmpty()) {
                throw RefusedException.conflict("query set " + newQuerySetId + " already exists");
            }
            List<ExemplarQuery> renamed = new ArrayList<>();
            List<Write> writes = new ArrayList<>();
            for (ExemplarQuery old : set.values()) {
                // The category carries its history to the new key: its revision keeps increasing.
                ExemplarQuery record = build(newQuerySetId, old.getCategoryId(), old.getLabel(), copy(old.getExemplars()), copy(old.getNegatives()), old.getScoreThreshold(), by, old.getRevision());
                renamed.add(record);
                writes.add(new Write(Keys.query(newQuerySetId, old.getCategoryId()), record));
            }
            for (String categoryId : set.keySet()) {
                writes.add(new Write(Keys.query(querySetId, categoryId), null));
            }
            commit(writes);
            return renamed;
        }
    }

    private ExemplarQuery existing(String querySetId, String categoryId) {
        return view.category(querySetId, categoryId)
                .orElseThrow(() -> RefusedException.notFound("category " + querySetId + "/" + categoryId + " does not exist"));
    }

    private Map<String, ExemplarQuery> existingSet(String querySetId) {
        Map<String, ExemplarQuery> set = view.querySet(querySetId);
        if (set.isEmpty()) {
            throw RefusedException.notFound("query set " + querySetId + " does not exist");
        }
        return set;
    }

    private void requireRoomForCategories(String querySetId, int adding) {
        int now = view.querySet(querySetId).size();
        if (now + adding > limits.maxCategoriesPerQuerySet()) {
            throw RefusedException.invalid("categoryId", "query set " + querySetId + " has " + now + " categories; at most "
                    + limits.maxCategoriesPerQuerySet() + " are allowed");
        }
    }

    /** The next record of a key: revision one above the highest it ever had (a re-created category included). */
    private ExemplarQuery build(String querySetId, String categoryId, String label, List<Exemplar> exemplars, List<Exemplar> negatives,
                                Float scoreThreshold, String by) {
        return build(querySetId, categoryId, label, exemplars, negatives, scoreThreshold, by, 0);
    }

    /** As above, with the revision also above {@code atLeastAbove}. */
    private ExemplarQuery build(String querySetId, String categoryId, String label, List<Exemplar> exemplars, List<Exemplar> negatives,
                                Float scoreThreshold, String by, long atLeastAbove) {
        return ExemplarQuery.newBuilder()
                .setQuerySetId(querySetId)
                .setCategoryId(categoryId)
                .setLabel(label)
                .setExemplars(exemplars)
                .setNegatives(negatives)
                .setScoreThreshold(scoreThreshold)
                .setRevision(Math.max(view.lastRevision(querySetId, categoryId), atLeastAbove) + 1)
                .setUpdatedAtMs(clock.instant())
                .setUpdatedBy(by)
                .build();
    }

    private List<Exemplar> exemplars(List<ValidExemplar> valid, Set<String> taken) {
        Set<String> used = new HashSet<>(taken);
        valid.forEach(v -> {
            if (v.exemplarId() != null) {
                used.add(v.exemplarId());
            }
        });
        List<Exemplar> out = new ArrayList<>();
        for (ValidExemplar v : valid) {
            String id = v.exemplarId();
            while (id == null) {
                String candidate = "ex-" + HexFormat.of().formatHex(randomBytes());
                id = used.add(candidate) ? candidate : null;
            }
            out.add(Exemplar.newBuilder()
                    .setExemplarId(id)
                    .setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(v.data().clone())).setMediaType(v.mediaType()).build())
                    .setBox(BoundingBox.newBuilder().setX1(v.x1()).setY1(v.y1()).setX2(v.x2()).setY2(v.y2()).build())
                    .build());
        }
        return out;
    }

    private byte[] randomBytes() {
        byte[] b = new byte[4];
        random.nextBytes(b);
        return b;
    }

    /** Deep copies (builders copy), so records in the view are never shared with new ones. */
    private static List<Exemplar> copy(List<Exemplar> exemplars) {
        List<Exemplar> out = new ArrayList<>();
        exemplars.forEach(e -> out.add(Exemplar.newBuilder(e).build()));
        return out;
    }

    private void write(List<ExemplarQuery> records) {
        List<Write> writes = new ArrayList<>();
        for (ExemplarQuery r : records) {
            writes.add(new Write(Keys.query(r.getQuerySetId(), r.getCategoryId()), r));
        }
        commit(writes);
    }

    /** Writes, then applies the acknowledged records to the view at their offsets (read-your-writes). */
    private void commit(List<Write> writes) {
        List<Long> offsets = writer.commit(writes);
        for (int i = 0; i < writes.size(); i++) {
            String[] ids = Keys.split(writes.get(i).key(), 2);
            view.apply(ids[0], ids[1], writes.get(i).value(), offsets.get(i));
        }
    }
}
