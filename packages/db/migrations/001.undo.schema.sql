DROP TABLE IF EXISTS black_list, participation, article_like, article, district, region, category,
  verification_code, refresh_token, member;
