package dev.mqdet.registry.api;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarQuery;
import java.util.Collection;
import java.util.List;

/** What the API answers with: plain records Jackson writes as JSON. Image bytes are never inlined; each has a URL. */
final class Json {
    private Json() {}

    record Box(float x1, float y1, float x2, float y2) {
        static Box of(BoundingBox b) {
            return new Box(b.getX1(), b.getY1(), b.getX2(), b.getY2());
        }
    }

    record ExemplarJson(String exemplarId, String mediaType, int bytes, Box box, String imageUrl) {}

    record CategoryJson(String querySetId, String categoryId, String label, Float scoreThreshold, long revision, long updatedAtMs,
                        String updatedBy, List<ExemplarJson> exemplars, List<ExemplarJson> negatives) {}

    record QuerySetJson(String querySetId, long version, List<CategoryJson> categories) {}

    static CategoryJson category(ExemplarQuery q) {
        String base = "/api/query-sets/" + q.getQuerySetId() + "/categories/" + q.getCategoryId();
        return new CategoryJson(q.getQuerySetId(), q.getCategoryId(), q.getLabel(), q.getScoreThreshold(), q.getRevision(),
                q.getUpdatedAtMs().toEpochMilli(), q.getUpdatedBy(), exemplars(q.getExemplars(), base + "/exemplars/"),
                exemplars(q.getNegatives(), base + "/negatives/"));
    }

    private static List<ExemplarJson> exemplars(List<Exemplar> exemplars, String base) {
        return exemplars.stream()
                .map((Exemplar e) -> new ExemplarJson(e.getExemplarId(), e.getImage().getMediaType(),
                        e.getImage().getData().remaining(), Box.of(e.getBox()), base + e.getExemplarId() + "/image"))
                .toList();
    }

    static QuerySetJson querySet(String querySetId, Collection<ExemplarQuery> categories) {
        long version = categories.stream().mapToLong(ExemplarQuery::getRevision).max().orElse(0);
        return new QuerySetJson(querySetId, version, categories.stream().map(Json::category).toList());
    }
}
